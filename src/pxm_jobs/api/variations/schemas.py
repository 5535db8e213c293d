"""Request and response bodies of the variation, option, modifier and product-variation
endpoints, by direction.

Request bodies check shape (a wrong `type`, an unknown attribute or a malformed body is a 422
from the framework); the catalog checks the rules and names the field to fix. Attribute values
are taken as sent (`Any`) where the catalog's message says more than a type error would.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import MISSING, BaseModel, ConfigDict, Field

from pxm_jobs.api.common_schemas import ListLinks, ListMeta, PublicModel

VARIATION_TYPE = "product-variation"
OPTION_TYPE = "product-variation-option"
MODIFIER_TYPE = "product-variation-modifier"


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def given(self) -> dict[str, Any]:
        """The fields the caller sent, null ones included: a PUT changes only those."""
        return self.model_dump(exclude_unset=True, by_alias=True)


# -- variations --------------------------------------------------------------------------------


class VariationAttributes(_Fields):
    name: Any = None
    sort_order: Any = None


class VariationCreateData(BaseModel):
    type: Literal["product-variation"]
    attributes: VariationAttributes


class VariationCreate(BaseModel):
    data: VariationCreateData


class VariationUpdateData(BaseModel):
    type: Literal["product-variation"]
    id: str | None = None
    attributes: VariationAttributes = Field(default_factory=VariationAttributes)


class VariationUpdate(BaseModel):
    data: VariationUpdateData


# -- options -----------------------------------------------------------------------------------


class OptionAttributes(_Fields):
    name: Any = None
    description: Any = None
    sort_order: Any = None


class OptionCreateData(BaseModel):
    type: Literal["product-variation-option"]
    attributes: OptionAttributes


class OptionCreate(BaseModel):
    data: OptionCreateData


class OptionUpdateData(BaseModel):
    type: Literal["product-variation-option"]
    id: str | None = None
    attributes: OptionAttributes = Field(default_factory=OptionAttributes)


class OptionUpdate(BaseModel):
    data: OptionUpdateData


# -- modifiers ---------------------------------------------------------------------------------


class ModifierAttributes(_Fields):
    type: Any = None
    value: Any = Field(
        default=None,
        description="Text for most types; an object for custom_inputs_equals, "
        "build_rules_equals and locales_equals. Not for builders or price.",
    )
    seek: Any = Field(default=None, description="sku_builder and slug_builder: what to find.")
    set_: Any = Field(
        default=None, alias="set", description="sku_builder and slug_builder: what to put."
    )
    reference_name: Any = Field(
        default=None, description="price: the name of the price book modifier to apply."
    )


class ModifierCreateData(BaseModel):
    type: Literal["product-variation-modifier"]
    attributes: ModifierAttributes


class ModifierCreate(BaseModel):
    data: ModifierCreateData


class ModifierUpdateData(BaseModel):
    type: Literal["product-variation-modifier"]
    id: str | None = None
    attributes: ModifierAttributes = Field(default_factory=ModifierAttributes)


class ModifierUpdate(BaseModel):
    data: ModifierUpdateData


# -- a product's variations --------------------------------------------------------------------


class VariationReference(BaseModel):
    type: Literal["product-variation"]
    id: str


class VariationReferences(BaseModel):
    data: list[VariationReference]

    def ids(self) -> list[str]:
        return [item.id for item in self.data]


# -- responses ---------------------------------------------------------------------------------


class OwnedMetaPublic(PublicModel):
    owner: Literal["store"]
    created_at: str
    updated_at: str


class VariationAttributesPublic(PublicModel):
    name: str
    sort_order: int | MISSING = MISSING


class OptionSummaryPublic(PublicModel):
    id: str
    name: str
    description: str | MISSING = MISSING
    sort_order: int | MISSING = MISSING
    created_at: str
    updated_at: str


class VariationMetaPublic(PublicModel):
    options: list[OptionSummaryPublic] | MISSING = Field(
        default=MISSING, description="The variation's options, in display order; absent if none."
    )
    owner: Literal["store"]
    created_at: str
    updated_at: str


class VariationPublic(PublicModel):
    type: Literal["product-variation"]
    id: str
    attributes: VariationAttributesPublic
    meta: VariationMetaPublic


class VariationDocument(PublicModel):
    data: VariationPublic


class VariationListDocument(PublicModel):
    data: list[VariationPublic]
    meta: ListMeta
    links: ListLinks


class OptionAttributesPublic(PublicModel):
    name: str
    description: str | MISSING = MISSING
    sort_order: int | MISSING = MISSING


class OptionPublic(PublicModel):
    type: Literal["product-variation-option"]
    id: str
    attributes: OptionAttributesPublic
    meta: OwnedMetaPublic


class OptionDocument(PublicModel):
    data: OptionPublic


class OptionListDocument(PublicModel):
    data: list[OptionPublic]
    meta: ListMeta
    links: ListLinks


class ModifierAttributesPublic(PublicModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: str
    value: Any | MISSING = MISSING
    seek: str | MISSING = MISSING
    set_: str | MISSING = Field(default=MISSING, alias="set")
    reference_name: str | MISSING = MISSING


class ModifierMetaPublic(PublicModel):
    owner: Literal["store"]


class ModifierPublic(PublicModel):
    type: Literal["product-variation-modifier"]
    id: str
    attributes: ModifierAttributesPublic
    meta: ModifierMetaPublic


class ModifierDocument(PublicModel):
    data: ModifierPublic


class ModifierListDocument(PublicModel):
    data: list[ModifierPublic]
    meta: ListMeta
    links: ListLinks


class ProductVariationMetaPublic(PublicModel):
    created_at: str = Field(description="When the variation was created.")


class ProductVariationReferencePublic(PublicModel):
    type: Literal["product-variation"]
    id: str
    meta: ProductVariationMetaPublic


class ProductVariationsDocument(PublicModel):
    data: list[ProductVariationReferencePublic]
