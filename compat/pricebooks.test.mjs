// The SDK's price book calls, as its users make them, against a live pxm-jobs.
import assert from "node:assert/strict";
import { test } from "node:test";

import { adminClient, waitForJob } from "./browser_sdk.mjs";

const client = adminClient();
const run = Date.now().toString(36);
const usd = (amount) => ({ USD: { amount, includes_tax: false } });
// Answers are built in the page's realm; compare them as plain data.
const plain = (value) => JSON.parse(JSON.stringify(value));

test("PriceBooks: create, list, filter, get, update, replicate, delete", async () => {
  const ref = `compat-book-${run}`;
  const created = await client.PriceBooks.Create({ attributes: { name: `Compat ${run}`, external_ref: ref } });
  const id = created.data.id;
  assert.equal(created.data.type, "pricebook");
  const listed = await client.PriceBooks.Filter({ eq: { external_ref: ref } }).All();
  assert.deepEqual(plain(listed.data.map((book) => book.id)), [id]);
  const shown = await client.PriceBooks.Get(id);
  assert.equal(shown.data.attributes.external_ref, ref);
  const updated = await client.PriceBooks.Update(id, { attributes: { description: "from the SDK" } });
  assert.equal(updated.data.attributes.description, "from the SDK");
  const copy = await client.PriceBooks.request.send(`pricebooks/${id}/replicate`, "POST", {
    type: "pricebook",
    attributes: { name: `Compat copy ${run}` },
  });
  assert.notEqual(copy.data.id, id);
  await client.PriceBooks.Delete(copy.data.id);
  await client.PriceBooks.Delete(id);
  await assert.rejects(client.PriceBooks.Get(id), (error) => error.errors[0].status === "404");
});

test("PriceBooks.Prices and PriceModifiers: create, list, filter, get, update, delete", async () => {
  const book = await client.PriceBooks.Create({ attributes: { name: `Priced ${run}` } });
  const pricebookId = book.data.id;
  const price = await client.PriceBooks.Prices.Create({
    pricebookId,
    body: {
      attributes: {
        sku: `SKU-${run}`,
        currencies: { USD: { amount: 100, includes_tax: false, tiers: { min_5: { minimum_quantity: 5, amount: 90 } } } },
      },
    },
  });
  const priceId = price.data.id;
  assert.equal(price.data.type, "product-price");
  const filtered = await client.PriceBooks.Prices.Filter({ eq: { sku: `SKU-${run}` } }).All({ pricebookId });
  assert.deepEqual(plain(filtered.data.map((item) => item.id)), [priceId]);
  const shown = await client.PriceBooks.Prices.Get({ pricebookId, priceId });
  assert.equal(shown.data.attributes.currencies.USD.tiers.min_5.amount, 90);
  const updated = await client.PriceBooks.Prices.Update({
    pricebookId,
    priceId,
    body: { attributes: { currencies: usd(120) } },
  });
  assert.equal(updated.data.attributes.currencies.USD.amount, 120);
  await assert.rejects(
    client.PriceBooks.Prices.Create({ pricebookId, body: { attributes: { sku: "X", currencies: { usd: { amount: 1 } } } } }),
    (error) => error.errors[0].status === "422" && error.errors[0].detail.includes("ISO 4217"),
  );
  const modifier = await client.PriceBooks.PriceModifiers.Create({
    pricebookId,
    body: { attributes: { name: "large", modifier_type: "price_increment", currencies: usd(250) } },
  });
  const priceModifierId = modifier.data.id;
  const modifiers = await client.PriceBooks.PriceModifiers.All({ pricebookId });
  assert.deepEqual(plain(modifiers.data.map((item) => item.id)), [priceModifierId]);
  const changed = await client.PriceBooks.PriceModifiers.Update({
    pricebookId,
    priceModifierId,
    body: { attributes: { modifier_type: "price_equals" } },
  });
  assert.equal(changed.data.attributes.modifier_type, "price_equals");
  assert.equal((await client.PriceBooks.PriceModifiers.Get({ pricebookId, priceModifierId })).data.id, priceModifierId);
  await client.PriceBooks.PriceModifiers.Delete({ pricebookId, priceModifierId });
  await client.PriceBooks.Prices.Delete({ pricebookId, priceId });
  await client.PriceBooks.Delete(pricebookId);
});

test("PriceBooks.ImportProductPrices: a FormData upload becomes a pricebook-import job", async () => {
  const ref = `compat-import-${run}`;
  const objects = [
    { data: { type: "product-price", pricebook_external_ref: ref, attributes: { external_ref: "p1", sku: `IMP-${run}`, currencies: usd(500) } } },
    { data: { type: "pricebook", attributes: { name: `Imported ${run}`, external_ref: ref } } },
  ];
  const form = new FormData();
  const text = objects.map((item) => JSON.stringify(item, null, 4)).join("\n\n");
  form.append("file", new Blob([text], { type: "application/jsonl" }), "prices.jsonl");
  const queued = await client.PriceBooks.ImportProductPrices(form);
  assert.equal(queued.data.attributes.type, "pricebook-import");
  const job = await waitForJob(client, queued.data.id);
  assert.equal(job.attributes.status, "success", JSON.stringify(job));
  assert.deepEqual(plain(job.meta.rows.prices), { created: 1, updated: 0 });
  const found = await client.PriceBooks.Filter({ eq: { external_ref: ref } }).All();
  const prices = await client.PriceBooks.Prices.All({ pricebookId: found.data[0].id });
  assert.equal(prices.data[0].attributes.currencies.USD.amount, 500);

  const broken = new FormData();
  broken.append("file", new Blob(['{"data": {"type": "product-price", "attributes": {}}}\n{oops']), "bad.jsonl");
  const failed = await waitForJob(client, (await client.PriceBooks.ImportProductPrices(broken)).data.id);
  assert.equal(failed.attributes.status, "failed");
  const errors = await client.PCM.Jobs.GetJobErrors(failed.id);
  const messages = errors.data.map((error) => error.attributes.message);
  assert.ok(messages.some((message) => message.startsWith("error processing object 2: invalid json provided")), messages);
});
