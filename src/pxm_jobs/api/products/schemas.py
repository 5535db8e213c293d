"""Request and response bodies of the product endpoints, named by direction.

Request bodies check shape and types (a wrong `type`, an unknown attribute or a value of the
wrong kind is a 422 from the framework); the catalog's product rules, shared with the import,
check values.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import MISSING, BaseModel, ConfigDict, Field, model_validator

from pxm_jobs.api.common_schemas import ListLinks, ListMeta, PublicModel


class LocalizedProductText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None


class ProductAttributes(BaseModel):
    """Every attribute is optional here: which are required is a rule of the catalog."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    slug: str | None = None
    sku: str | None = None
    status: str | None = None
    commodity_type: str | None = None
    upc_ean: str | None = None
    mpn: str | None = None
    external_ref: str | None = None
    main_image_id: str | None = None
    tags: list[str] | None = None
    locales: dict[str, LocalizedProductText] | None = None
    # Their shape is checked by the catalog's rules, which name the part that is wrong.
    custom_inputs: dict[str, Any] | None = None
    build_rules: dict[str, Any] | None = None
    components: dict[str, Any] | None = None
    shopper_attributes: dict[str, Any] | None = None
    admin_attributes: dict[str, Any] | None = None

    def given(self) -> dict[str, Any]:
        """The attributes the caller sent, null ones included: a PUT changes only those."""
        return self.model_dump(exclude_unset=True)


class VariationReference(BaseModel):
    type: Literal["product-variation"]
    id: str


class VariationReferences(BaseModel):
    data: list[VariationReference]


class ProductCreateRelationships(BaseModel):
    variations: VariationReferences | None = None


class ProductCreateData(BaseModel):
    type: Literal["product"]
    attributes: ProductAttributes
    relationships: ProductCreateRelationships = Field(default_factory=ProductCreateRelationships)

    def variation_ids(self) -> list[str]:
        variations = self.relationships.variations
        return [item.id for item in variations.data] if variations is not None else []


class ProductCreate(BaseModel):
    data: ProductCreateData


class ProductUpdateData(BaseModel):
    type: Literal["product"]
    id: str | None = None
    attributes: ProductAttributes = Field(default_factory=ProductAttributes)


class ProductUpdate(BaseModel):
    data: ProductUpdateData


class ExportColumns(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include: list[str] = Field(default_factory=list)


class ProductExportAttributes(BaseModel):
    """EP's `columns: {"include": [...]}`, or the older plain list of columns."""

    model_config = ConfigDict(extra="forbid")

    columns: ExportColumns | list[str] | None = None


class ProductExportData(BaseModel):
    type: Literal["product-export", "product"]
    attributes: ProductExportAttributes = Field(default_factory=ProductExportAttributes)


class ProductExport(BaseModel):
    data: ProductExportData | None = None

    @model_validator(mode="before")
    @classmethod
    def unwrap_sdk_body(cls, value: Any) -> Any:
        """Accept the published JavaScript SDK's body, which wraps `data` in `data` again."""
        if isinstance(value, dict):
            inner = value.get("data")
            if isinstance(inner, dict) and set(inner) == {"data"}:
                return inner
        return value

    def columns(self) -> list[str]:
        if self.data is None:
            return []
        columns = self.data.attributes.columns
        if isinstance(columns, ExportColumns):
            return list(columns.include)
        return list(columns or ())


# -- responses ---------------------------------------------------------------------------------


class ProductLocalePublic(PublicModel):
    name: str | MISSING = MISSING
    description: str | MISSING = MISSING


class ProductAttributesPublic(PublicModel):
    name: str
    slug: str
    status: Literal["draft", "live"]
    commodity_type: Literal["physical", "digital"]
    description: str | MISSING = MISSING
    sku: str | MISSING = MISSING
    upc_ean: str | MISSING = MISSING
    mpn: str | MISSING = MISSING
    external_ref: str | MISSING = MISSING
    main_image_id: str | MISSING = MISSING
    tags: list[str] | MISSING = MISSING
    locales: dict[str, ProductLocalePublic] | MISSING = MISSING
    custom_inputs: dict[str, Any] | MISSING = MISSING
    build_rules: dict[str, Any] | MISSING = MISSING
    components: dict[str, Any] | MISSING = MISSING
    shopper_attributes: dict[str, str] | MISSING = MISSING
    admin_attributes: dict[str, str] | MISSING = MISSING
    extensions: dict[str, dict[str, str]] | MISSING = Field(
        default=MISSING, description='Custom data by `"products(<template>)"`, then by field.'
    )


class ResourceReference(PublicModel):
    type: str
    id: str


class SelfLink(PublicModel):
    self: str


class ToManyRelationship(PublicModel):
    data: list[ResourceReference]
    links: SelfLink


class ToOneRelationship(PublicModel):
    data: ResourceReference | None


class ProductRelationshipsPublic(PublicModel):
    children: ToManyRelationship
    component_products: ToManyRelationship
    files: ToManyRelationship
    main_image: ToOneRelationship
    templates: ToManyRelationship
    variations: ToManyRelationship
    base_product: ToOneRelationship | MISSING = Field(
        default=MISSING, description="On child products: the product they were built from."
    )
    parent: ToOneRelationship | MISSING = Field(
        default=MISSING, description="On child products: the same product as `base_product`."
    )


class ChildOptionPublic(PublicModel):
    id: str
    name: str
    description: str | None


class ChildVariationPublic(PublicModel):
    id: str
    name: str
    sort_order: int | None
    options: None
    option: ChildOptionPublic


class ProductVariationOptionPublic(PublicModel):
    id: str
    name: str
    description: str | MISSING = MISSING


class ProductVariationPublic(PublicModel):
    id: str
    name: str
    options: list[ProductVariationOptionPublic]


class ProductMetaPublic(PublicModel):
    created_at: str
    updated_at: str
    owner: Literal["store"]
    product_types: list[Literal["standard", "parent", "child", "bundle"]]
    variation_matrix: dict[str, Any] = Field(
        description="Option ids nested one level per variation, down to the child each "
        "combination built: `{size option: {colour option: child id}}`; empty until built."
    )
    variations: list[ProductVariationPublic] | MISSING = Field(
        default=MISSING, description="On a product with variations: them and their options."
    )
    child_variations: list[ChildVariationPublic] | MISSING = Field(
        default=MISSING,
        description="On child products: the variation and option each was built from.",
    )


class ProductPublic(PublicModel):
    type: Literal["product"]
    id: str
    attributes: ProductAttributesPublic
    relationships: ProductRelationshipsPublic
    meta: ProductMetaPublic


class ProductIncluded(PublicModel):
    component_products: list[ProductPublic]


class ProductDocument(PublicModel):
    data: ProductPublic
    included: ProductIncluded | MISSING = MISSING


class ProductListDocument(PublicModel):
    data: list[ProductPublic]
    meta: ListMeta
    links: ListLinks
    included: ProductIncluded | MISSING = MISSING


class ReferenceListDocument(PublicModel):
    data: list[ResourceReference]


class TagAttributesPublic(PublicModel):
    value: str


class TagMetaPublic(PublicModel):
    created_at: str
    updated_at: str
    owner: Literal["store"]


class TagPublic(PublicModel):
    type: Literal["tag"]
    id: str
    attributes: TagAttributesPublic
    meta: TagMetaPublic


class TagDocument(PublicModel):
    data: TagPublic


class TagListDocument(PublicModel):
    data: list[TagPublic]
    meta: ListMeta
    links: ListLinks
