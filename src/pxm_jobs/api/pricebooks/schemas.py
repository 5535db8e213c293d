"""Request and response bodies of the price book, price and modifier endpoints, by direction.

Request bodies check the shape (a wrong `type`, an unknown attribute or a string where an
object belongs is a 422 from the framework); the catalog's rules, shared with the import, check
the values: currency codes, whole amounts, tier quantities, schedules.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import MISSING, BaseModel, ConfigDict, Field

from pxm_jobs.api.common_schemas import ListLinks, ListMeta, PublicModel

# Currencies and sales are checked by the catalog's rules, which name the exact place of each
# problem (`currencies.USD.tiers.min_5.amount`); the schema only asks for objects.
Currencies = dict[str, Any]
Sales = dict[str, Any]
CustomAttributes = dict[str, str | None]


class _Attributes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def given(self) -> dict[str, Any]:
        """The attributes the caller sent, null ones included: a PUT changes only those."""
        return self.model_dump(exclude_unset=True)


# -- price books -------------------------------------------------------------------------------


class PricebookAttributes(_Attributes):
    name: str | None = None
    description: str | None = None
    external_ref: str | None = None


class PricebookCreateData(BaseModel):
    type: Literal["pricebook"]
    attributes: PricebookAttributes


class PricebookCreate(BaseModel):
    data: PricebookCreateData


class PricebookUpdateData(BaseModel):
    type: Literal["pricebook"]
    id: str | None = None
    attributes: PricebookAttributes = Field(default_factory=PricebookAttributes)


class PricebookUpdate(BaseModel):
    data: PricebookUpdateData


class PricebookReplicateData(BaseModel):
    type: Literal["pricebook"]
    attributes: PricebookAttributes = Field(default_factory=PricebookAttributes)


class PricebookReplicate(BaseModel):
    data: PricebookReplicateData


# -- prices ------------------------------------------------------------------------------------


class PriceAttributes(_Attributes):
    sku: str | None = None
    currencies: Currencies | None = None
    sales: Sales | None = None
    external_ref: str | None = None
    admin_attributes: CustomAttributes | None = None
    shopper_attributes: CustomAttributes | None = None


class PriceCreateData(BaseModel):
    type: Literal["product-price"]
    attributes: PriceAttributes


class PriceCreate(BaseModel):
    data: PriceCreateData


class PriceUpdateData(BaseModel):
    type: Literal["product-price"]
    id: str | None = None
    attributes: PriceAttributes = Field(default_factory=PriceAttributes)


class PriceUpdate(BaseModel):
    data: PriceUpdateData


# -- modifiers ---------------------------------------------------------------------------------


class ModifierAttributes(_Attributes):
    name: str | None = None
    modifier_type: Literal["price_equals", "price_increment", "price_decrement"] | None = None
    currencies: Currencies | None = None
    external_ref: str | None = None


class ModifierCreateData(BaseModel):
    type: Literal["price-modifier"]
    attributes: ModifierAttributes


class ModifierCreate(BaseModel):
    data: ModifierCreateData


class ModifierUpdateData(BaseModel):
    type: Literal["price-modifier"]
    id: str | None = None
    attributes: ModifierAttributes = Field(default_factory=ModifierAttributes)


class ModifierUpdate(BaseModel):
    data: ModifierUpdateData


# -- responses ---------------------------------------------------------------------------------


class TierPublic(PublicModel):
    minimum_quantity: int = Field(ge=1)
    amount: int = Field(ge=0)


class AmountPublic(PublicModel):
    amount: int = Field(ge=0, description="In the currency's minor unit: 1999 for 19.99.")
    includes_tax: bool
    tiers: dict[str, TierPublic] | MISSING = MISSING


class SchedulePublic(PublicModel):
    valid_from: str | MISSING = MISSING
    valid_to: str | MISSING = MISSING


class SalePublic(PublicModel):
    schedule: SchedulePublic | MISSING = MISSING
    currencies: dict[str, AmountPublic] | MISSING = MISSING
    bundle_ids: list[str] | MISSING = MISSING


class OwnerMeta(PublicModel):
    owner: Literal["store"]


class PricebookAttributesPublic(PublicModel):
    name: str
    description: str | MISSING = MISSING
    external_ref: str | MISSING = MISSING
    created_at: str
    updated_at: str


class PricebookPublic(PublicModel):
    type: Literal["pricebook"]
    id: str
    attributes: PricebookAttributesPublic
    meta: OwnerMeta


class SelfLink(PublicModel):
    self: str


class PriceAttributesPublic(PublicModel):
    sku: str
    currencies: dict[str, AmountPublic]
    sales: dict[str, SalePublic] | MISSING = MISSING
    external_ref: str | MISSING = MISSING
    admin_attributes: dict[str, str] | MISSING = MISSING
    shopper_attributes: dict[str, str] | MISSING = MISSING
    created_at: str
    updated_at: str


class PriceMeta(PublicModel):
    owner: Literal["store"]
    pricebook_id: str


class PricePublic(PublicModel):
    type: Literal["product-price"]
    id: str
    attributes: PriceAttributesPublic
    meta: PriceMeta


class PricebookDocument(PublicModel):
    data: PricebookPublic
    links: SelfLink
    included: list[PricePublic] | MISSING = Field(
        default=MISSING,
        description="With `include=prices`: a page of the book's prices (page[limit], "
        "page[offset]); list them all with GET /pcm/pricebooks/{id}/prices.",
    )


class PricebookListDocument(PublicModel):
    data: list[PricebookPublic]
    meta: ListMeta
    links: ListLinks


class PriceDocument(PublicModel):
    data: PricePublic
    links: SelfLink


class PriceListDocument(PublicModel):
    data: list[PricePublic]
    meta: ListMeta
    links: ListLinks


class ModifierAttributesPublic(PublicModel):
    name: str
    modifier_type: Literal["price_equals", "price_increment", "price_decrement"]
    currencies: dict[str, AmountPublic]
    external_ref: str | MISSING = MISSING
    created_at: str
    updated_at: str


class ModifierPublic(PublicModel):
    type: Literal["price-modifier"]
    id: str
    attributes: ModifierAttributesPublic
    meta: OwnerMeta


class ModifierDocument(PublicModel):
    data: ModifierPublic
    links: SelfLink


class ModifierListDocument(PublicModel):
    data: list[ModifierPublic]
    meta: ListMeta
    links: ListLinks
