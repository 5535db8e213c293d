"""Request and response bodies of the hierarchy, node and node-product endpoints, by direction.

Request bodies check shape and types (a wrong `type` or a malformed body is a 422 from the
framework); the catalog checks the rules (names, slugs, parents, siblings).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import MISSING, BaseModel, ConfigDict, Field

from pxm_jobs.api.common_schemas import (
    ListLinks,
    ListMeta,
    PublicModel,
    RelatedLink,
    RelatedLinks,
)
from pxm_jobs.catalog.hierarchies.rules import SORT_ORDER_MAX, SORT_ORDER_MIN


class LocalizedText(BaseModel):
    name: str | None = None
    description: str | None = None


Locales = dict[str, LocalizedText]


class _Fields(BaseModel):
    def given(self) -> dict[str, Any]:
        """The fields the caller sent, null ones included: a PUT changes only those."""
        return self.model_dump(exclude_unset=True)


# -- hierarchies -------------------------------------------------------------------------------


class HierarchyAttributesCreate(_Fields):
    name: str
    description: str | None = None
    slug: str | None = None
    locales: Locales | None = None


class HierarchyAttributesUpdate(_Fields):
    name: str | None = None
    description: str | None = None
    slug: str | None = None
    locales: Locales | None = None


class HierarchyCreateData(BaseModel):
    type: Literal["hierarchy"]
    attributes: HierarchyAttributesCreate


class HierarchyCreate(BaseModel):
    data: HierarchyCreateData


class HierarchyUpdateData(BaseModel):
    type: Literal["hierarchy"]
    id: str | None = None
    attributes: HierarchyAttributesUpdate = Field(default_factory=HierarchyAttributesUpdate)


class HierarchyUpdate(BaseModel):
    data: HierarchyUpdateData


class HierarchyDuplicateAttributes(_Fields):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    slug: str | None = None
    include_products: bool = False


class HierarchyDuplicateData(BaseModel):
    type: Literal["hierarchy"]
    attributes: HierarchyDuplicateAttributes = Field(default_factory=HierarchyDuplicateAttributes)


class HierarchyDuplicate(BaseModel):
    data: HierarchyDuplicateData


# -- nodes -------------------------------------------------------------------------------------


class NodeReference(BaseModel):
    type: Literal["node"]
    id: str


class ParentRelationship(BaseModel):
    data: NodeReference | None


class NodeRelationships(BaseModel):
    parent: ParentRelationship | None = None


class NodeMeta(_Fields):
    sort_order: int | None = Field(default=None, ge=SORT_ORDER_MIN, le=SORT_ORDER_MAX)


class NodeAttributesCreate(_Fields):
    name: str
    description: str | None = None
    slug: str | None = None
    locales: Locales | None = None


class NodeAttributesUpdate(_Fields):
    name: str | None = None
    description: str | None = None
    slug: str | None = None
    locales: Locales | None = None


class NodeCreateData(BaseModel):
    type: Literal["node"]
    attributes: NodeAttributesCreate
    relationships: NodeRelationships = Field(default_factory=NodeRelationships)
    meta: NodeMeta = Field(default_factory=NodeMeta)


class NodeCreate(BaseModel):
    data: NodeCreateData


class NodeUpdateData(BaseModel):
    type: Literal["node"]
    id: str | None = None
    attributes: NodeAttributesUpdate = Field(default_factory=NodeAttributesUpdate)
    relationships: NodeRelationships = Field(default_factory=NodeRelationships)
    meta: NodeMeta = Field(default_factory=NodeMeta)


class NodeUpdate(BaseModel):
    data: NodeUpdateData


class ParentUpdate(BaseModel):
    data: NodeReference


class ChildReference(BaseModel):
    type: Literal["node"]
    id: str
    meta: NodeMeta | None = None


class NodeChildren(BaseModel):
    data: list[ChildReference]


# -- node products -----------------------------------------------------------------------------


class ProductReference(BaseModel):
    type: Literal["product"]
    id: str


class ProductReferences(BaseModel):
    data: list[ProductReference]


# -- responses ---------------------------------------------------------------------------------


class LocalizedTextPublic(PublicModel):
    name: str | MISSING | None = MISSING
    description: str | MISSING | None = MISSING


class CatalogAttributesPublic(PublicModel):
    """The attributes hierarchies and nodes share."""

    name: str
    description: str | MISSING = MISSING
    slug: str | MISSING = MISSING
    locales: dict[str, LocalizedTextPublic] | MISSING = MISSING


class CatalogMetaPublic(PublicModel):
    created_at: str
    updated_at: str
    owner: Literal["store"]


class NodeReferencePublic(PublicModel):
    type: Literal["node"]
    id: str


class HierarchyChildrenPublic(PublicModel):
    data: list[NodeReferencePublic] = Field(description="The hierarchy's top-level nodes.")
    links: RelatedLink


class HierarchyRelationshipsPublic(PublicModel):
    children: HierarchyChildrenPublic


class HierarchyPublic(PublicModel):
    type: Literal["hierarchy"]
    id: str
    attributes: CatalogAttributesPublic
    relationships: HierarchyRelationshipsPublic
    meta: CatalogMetaPublic


class HierarchyDocument(PublicModel):
    data: HierarchyPublic


class HierarchyListDocument(PublicModel):
    data: list[HierarchyPublic]
    meta: ListMeta
    links: ListLinks


class ParentPublic(PublicModel):
    data: NodeReference


class NodeRelationshipsPublic(PublicModel):
    children: RelatedLinks
    products: RelatedLinks
    parent: ParentPublic | MISSING = Field(default=MISSING, description="Absent on top nodes.")


class NodeMetaPublic(CatalogMetaPublic):
    hierarchy_id: str
    sort_order: int | MISSING = MISSING
    parent_name: str | MISSING = Field(default=MISSING, description="Absent on top nodes.")


class NodePublic(PublicModel):
    type: Literal["node"]
    id: str
    attributes: CatalogAttributesPublic
    relationships: NodeRelationshipsPublic
    meta: NodeMetaPublic


class NodeDocument(PublicModel):
    data: NodePublic


class NodeListDocument(PublicModel):
    data: list[NodePublic]
    meta: ListMeta
    links: ListLinks


class ProductReferenceListDocument(PublicModel):
    data: list[ProductReference]
    meta: ListMeta
    links: ListLinks
