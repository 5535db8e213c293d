// Drives Elastic Path's JavaScript SDK (35.0.0) against a running pxm-jobs: the product, node,
// hierarchy, relationship, variation and child-product calls a store-seeding tool makes. Exits
// non-zero on the first call that fails or answers something other than what the SDK's users
// rely on.
import assert from 'node:assert/strict'
import { gateway, MemoryStorageFactory } from '@elasticpath/js-sdk'

const [host, clientId, clientSecret] = process.argv.slice(2)
const ep = gateway({
  client_id: clientId,
  client_secret: clientSecret,
  host,
  protocol: 'http',
  storage: new MemoryStorageFactory(),
  fetchMaxAttempts: 1,
})

let passed = 0
async function step(name, call) {
  try {
    const result = await call()
    passed += 1
    console.log(`ok   ${name}`)
    return result
  } catch (error) {
    console.error(`FAIL ${name}: ${error?.stack ?? JSON.stringify(error)}`)
    console.error(JSON.stringify(error?.errors ?? error, null, 2))
    process.exit(1)
  }
}

const run = Date.now().toString(36)
const product = (name, extra = {}) => ({
  attributes: { name, sku: `${name}-${run}`, commodity_type: 'physical', ...extra },
})

const mug = await step('PCM.Create a product with custom inputs and attributes', async () => {
  const { data } = await ep.PCM.Create(
    product('mug', {
      status: 'live',
      tags: ['kitchen'],
      custom_inputs: {
        message: {
          name: 'Message',
          validation_rules: [{ type: 'string', options: { max_length: 40 } }],
          required: false,
        },
      },
      shopper_attributes: { colour: 'white' },
      admin_attributes: { bin: 'A-1' },
      locales: { 'fr-FR': { name: 'Tasse' } },
    }),
  )
  assert.equal(data.attributes.custom_inputs.message.name, 'Message')
  assert.deepEqual(data.meta.product_types, ['standard'])
  return data
})

const lid = await step('PCM.Create a product with build rules and variations', async () => {
  // A product names variations of its store: make one first.
  const colour = await ep.PCMVariations.CreateVariation({ attributes: { name: `Lid colour ${run}` } })
  const { data } = await ep.PCM.Create({
    ...product('lid', { build_rules: { default: 'include', exclude: [['opt-1', 'opt-2']] } }),
    relationships: { variations: { data: [{ type: 'product-variation', id: colour.data.id }] } },
  })
  assert.equal(data.attributes.build_rules.default, 'include')
  return data
})

const bundle = await step('PCM.Create a bundle of existing products', async () => {
  const { data } = await ep.PCM.Create(
    product('set', {
      components: {
        cup: { name: 'Cup', min: 1, max: 1, options: [{ id: mug.id, type: 'product', quantity: 2 }] },
        top: { name: 'Top', options: [{ id: lid.id, type: 'product', quantity: 1, default: true }] },
      },
    }),
  )
  assert.deepEqual(data.meta.product_types, ['bundle'])
  return data
})

await step('PCM.With(component_products).Get', async () => {
  const document = await ep.PCM.With('component_products').Get(bundle.id)
  const ids = document.included.component_products.map((item) => item.id).sort()
  assert.deepEqual(ids, [mug.id, lid.id].sort())
})

await step('PCM.Update', async () => {
  const { data } = await ep.PCM.Update(mug.id, { id: mug.id, attributes: { name: 'Big mug' } })
  assert.equal(data.attributes.name, 'Big mug')
  assert.equal(data.attributes.custom_inputs.message.required, false)
})

await step('PCM.Filter on product_types (the typed filter)', async () => {
  const { data } = await ep.PCM.Filter({ eq: { product_types: 'bundle' } }).All()
  assert.deepEqual(data.map((item) => item.id), [bundle.id])
})

await step('PCM.Filter on shopper_attributes and admin_attributes', async () => {
  const shopper = await ep.PCM.Filter({ eq: { shopper_attributes: { colour: 'white' } } }).All()
  assert.deepEqual(shopper.data.map((item) => item.id), [mug.id])
  const admin = await ep.PCM.Filter({ eq: { admin_attributes: { bin: 'A-1' } } }).All()
  assert.deepEqual(admin.data.map((item) => item.id), [mug.id])
})

const hierarchy = await step('Hierarchies.Create', async () => {
  const { data } = await ep.Hierarchies.Create({ attributes: { name: `Kitchen ${run}`, slug: `kitchen-${run}` } })
  return data
})
const node = async (name) => {
  const { data } = await ep.Hierarchies.Nodes.Create({
    hierarchyId: hierarchy.id,
    body: { attributes: { name, slug: `${name}-${run}` } },
  })
  return data
}
const cups = await step('Hierarchies.Nodes.Create', () => node('cups'))
const mugs = await step('Hierarchies.Nodes.Create another', () => node('mugs'))

await step('Hierarchies.Relationships.CreateChildrenSortOrder', async () => {
  const { data } = await ep.Hierarchies.Relationships.CreateChildrenSortOrder({
    hierarchyId: hierarchy.id,
    nodeId: cups.id,
    body: [{ type: 'node', id: mugs.id, meta: { sort_order: 3 } }],
  })
  assert.equal(data.id, cups.id)
  const child = await ep.Hierarchies.Nodes.Get({ hierarchyId: hierarchy.id, nodeId: mugs.id })
  assert.equal(child.data.meta.sort_order, 3)
  assert.equal(child.data.meta.parent_name, 'cups')
})

await step('Hierarchies.GetNodesByIds', async () => {
  const { data } = await ep.Hierarchies.GetNodesByIds([cups.id, mugs.id])
  assert.deepEqual(data.map((item) => item.id).sort(), [cups.id, mugs.id].sort())
})

await step('PCM.AttachNodes', async () => {
  const answer = await ep.PCM.AttachNodes({ filter: `eq(sku,mug-${run})`, node_ids: [cups.id, mugs.id] })
  assert.deepEqual(answer.meta, { nodes_attached: 2, nodes_not_found: [] })
})

await step('PCM.GetProductNodes', async () => {
  const { data } = await ep.PCM.GetProductNodes(mug.id)
  assert.deepEqual(data.map((item) => item.id).sort(), [cups.id, mugs.id].sort())
})

await step('PCM.DetachNodes', async () => {
  const answer = await ep.PCM.DetachNodes({ filter: `eq(sku,mug-${run})`, node_ids: [mugs.id] })
  assert.deepEqual(answer.meta, { nodes_detached: 1, nodes_not_found: [] })
  const { data } = await ep.PCM.GetProductNodes(mug.id)
  assert.deepEqual(data.map((item) => item.id), [cups.id])
})

await step('PCM.GetChildProducts', async () => {
  const { data } = await ep.PCM.GetChildProducts(mug.id)
  assert.deepEqual(data, [])
})

await step('PCM.FileRelationships', async () => {
  await ep.PCM.FileRelationships.Create(mug.id, ['file-1', 'file-2'])
  await ep.PCM.FileRelationships.Update(mug.id, ['file-3'])
  const { data } = await ep.PCM.FileRelationships.All(mug.id)
  assert.deepEqual(data, [{ type: 'file', id: 'file-3' }])
  await ep.PCM.FileRelationships.Delete(mug.id, ['file-3'])
})

await step('PCM.TemplateRelationships', async () => {
  await ep.PCM.TemplateRelationships.Create(mug.id, ['template-1'])
  const { data } = await ep.PCM.TemplateRelationships.All(mug.id)
  assert.deepEqual(data, [{ type: 'template', id: 'template-1' }])
  await ep.PCM.TemplateRelationships.Delete(mug.id, ['template-1'])
})

await step('PCM.MainImageRelationships', async () => {
  await ep.PCM.MainImageRelationships.Create(mug.id, 'image-1')
  await ep.PCM.MainImageRelationships.Update(mug.id, 'image-2')
  const { data } = await ep.PCM.MainImageRelationships.Get(mug.id)
  assert.deepEqual(data, [{ type: 'file', id: 'image-2' }])
  await ep.PCM.MainImageRelationships.Delete(mug.id, 'image-2')
})

// Variations, their options and modifiers, and a base product's children built from them.
const size = await step('PCMVariations.CreateVariation', async () => {
  const { data } = await ep.PCMVariations.CreateVariation({ attributes: { name: `Size ${run}`, sort_order: 2 } })
  assert.equal(data.type, 'product-variation')
  return data
})

await step('PCMVariations.UpdateVariation, Get and All', async () => {
  await ep.PCMVariations.UpdateVariation(size.id, { attributes: { name: `Mug size ${run}` } })
  const { data } = await ep.PCMVariations.Get(size.id)
  assert.equal(data.attributes.name, `Mug size ${run}`)
  const listed = await ep.PCMVariations.All()
  assert.ok(listed.data.some((item) => item.id === size.id))
})

const sizeOption = async (name) => {
  const { data } = await ep.PCMVariations.CreateVariationsOption(size.id, {
    attributes: { name, description: `${name} mug` },
  })
  assert.equal(data.type, 'product-variation-option')
  for (const [type, value] of [['sku_append', `-${name}`], ['slug_append', `-${name.toLowerCase()}`]]) {
    const modifier = await ep.PCMVariations.CreateVariationsModifier(size.id, data.id, {
      attributes: { type, value },
    })
    assert.equal(modifier.data.type, 'product-variation-modifier')
  }
  return data
}
const small = await step('PCMVariations.CreateVariationsOption with modifiers', () => sizeOption('S'))
const large = await step('PCMVariations.CreateVariationsOption another', () => sizeOption('L'))

await step('PCMVariations.VariationsOption(s), UpdateVariationsOption', async () => {
  await ep.PCMVariations.UpdateVariationsOption(size.id, large.id, {
    attributes: { name: 'L', description: 'Large mug' },
  })
  const { data } = await ep.PCMVariations.VariationsOption(size.id, large.id)
  assert.equal(data.attributes.description, 'Large mug')
  const listed = await ep.PCMVariations.VariationsOptions(size.id)
  assert.deepEqual(listed.data.map((item) => item.id).sort(), [small.id, large.id].sort())
})

await step('PCMVariations.VariationsModifier(s), Update and DeleteVariationsModifier', async () => {
  const modifier = await ep.PCMVariations.CreateVariationsModifier(size.id, small.id, {
    attributes: { type: 'name_append', value: ' (S)' },
  })
  await ep.PCMVariations.UpdateVariationsModifier(size.id, small.id, modifier.data.id, {
    attributes: { type: 'name_append', value: ' small' },
  })
  const { data } = await ep.PCMVariations.VariationsModifier(size.id, small.id, modifier.data.id)
  assert.equal(data.attributes.value, ' small')
  const listed = await ep.PCMVariations.VariationsModifiers(size.id, small.id)
  assert.equal(listed.data.length, 3)
  await ep.PCMVariations.DeleteVariationsModifier(size.id, small.id, modifier.data.id)
})

const cup = await step('PCM.VariationsRelationships.Create and All', async () => {
  const { data } = await ep.PCM.Create(product('cup', { slug: `cup-${run}` }))
  await ep.PCM.VariationsRelationships.Create(data.id, [size.id])
  const linked = await ep.PCM.VariationsRelationships.All(data.id)
  assert.deepEqual(linked.data.map((item) => item.id), [size.id])
  return data
})

await step('PCM.BuildChildProducts', async () => {
  const { data } = await ep.PCM.BuildChildProducts(cup.id)
  assert.equal(data.type, 'pim-job')
  assert.equal(data.attributes.type, 'child-products')
  let job = data
  for (let attempt = 0; attempt < 200 && !['success', 'failed'].includes(job.attributes.status); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    job = (await ep.PCM.Jobs.Get(data.id)).data
  }
  assert.equal(job.attributes.status, 'success')
})

await step('PCM.GetChildProducts of a built product', async () => {
  const { data } = await ep.PCM.GetChildProducts(cup.id)
  assert.deepEqual(data.map((child) => child.attributes.sku).sort(), [`cup-${run}-L`, `cup-${run}-S`])
  for (const child of data) {
    assert.deepEqual(child.meta.product_types, ['child'])
    assert.equal(child.relationships.base_product.data.id, cup.id)
  }
  const base = await ep.PCM.Get(cup.id)
  assert.deepEqual(base.data.meta.product_types, ['parent'])
  assert.equal(Object.keys(base.data.meta.variation_matrix).length, 2)
})

await step('PCMVariations.DeleteVariationsOption, then a rebuild drops its child', async () => {
  await ep.PCMVariations.DeleteVariationsOption(size.id, large.id)
  await ep.PCM.BuildChildProducts(cup.id)
  let children = []
  for (let attempt = 0; attempt < 200; attempt += 1) {
    children = (await ep.PCM.GetChildProducts(cup.id)).data
    if (children.length === 1) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  assert.deepEqual(children.map((child) => child.attributes.sku), [`cup-${run}-S`])
})

await step('PCM.VariationsRelationships.Delete, then PCMVariations.Delete', async () => {
  await ep.PCM.VariationsRelationships.Delete(cup.id, [size.id])
  await ep.PCMVariations.Delete(size.id)
  await assert.rejects(ep.PCMVariations.Get(size.id))
})

await step('PCM.Delete refuses a product in a bundle, then deletes the bundle', async () => {
  await assert.rejects(ep.PCM.Delete(mug.id))
  await ep.PCM.Delete(bundle.id)
})

console.log(`${passed} passed, 0 failed`)
