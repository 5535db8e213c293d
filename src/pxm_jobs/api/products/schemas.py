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

    def given(self) -> dict[str, Any]:
        """The attributes the caller sent, null ones included: a PUT changes only those."""
        return self.model_dump(exclude_unset=True)


class ProductCreateData(BaseModel):
    type: Literal["product"]
    attributes: ProductAttributes


class ProductCreate(BaseModel):
    data: ProductCreateData


class ProductUpdateData(BaseModel):
    type: Literal["product"]
    id: str | None = None
    attributes: ProductAttributes = Field(default_factory=ProductAttributes)


class ProductUpdate(BaseModel):
    data: ProductUpdateData


class ProductExportAttributes(BaseModel):
    columns: list[str] | None = None


class ProductExportData(BaseModel):
    type: Literal["product"]
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
        return list(self.data.attributes.columns or ()) if self.data is not None else []


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


class ProductMetaPublic(PublicModel):
    created_at: str
    updated_at: str
    owner: Literal["store"]
    templates: dict[str, dict[str, str]] | MISSING = Field(
        default=MISSING, description="Custom data by template, then by field."
    )


class ProductPublic(PublicModel):
    type: Literal["product"]
    id: str
    attributes: ProductAttributesPublic
    meta: ProductMetaPublic


class ProductDocument(PublicModel):
    data: ProductPublic


class ProductListDocument(PublicModel):
    data: list[ProductPublic]
    meta: ListMeta
    links: ListLinks
