// Driver result objects turned into the documents the test format describes
// ("Converting Returned Model Objects to Documents").

function plainIds(ids) {
  if (ids == null) return ids;
  const out = {};
  for (const [k, v] of Object.entries(ids)) out[String(k)] = v;
  return out;
}

// BulkWriteResult of collection.bulkWrite (also the partial result carried by
// a bulk write error).
export function bulkWriteResultDocument(result) {
  if (result == null) return result;
  const doc = {
    insertedCount: result.insertedCount,
    matchedCount: result.matchedCount,
    modifiedCount: result.modifiedCount,
    deletedCount: result.deletedCount,
    upsertedCount: result.upsertedCount,
    upsertedIds: plainIds(result.upsertedIds),
    insertedIds: plainIds(result.insertedIds),
  };
  return doc;
}

// insertOne/insertMany/update/replace/delete results are plain objects
// already; make their key shapes uniform and drop undefined fields.
export function writeResultDocument(result) {
  if (result == null || typeof result !== "object") return result;
  const doc = {};
  for (const [k, v] of Object.entries(result)) {
    if (v === undefined) continue;
    doc[k] = k === "insertedIds" ? plainIds(v) : v;
  }
  return doc;
}

// clientBulkWrite results (maps of per-model results) into documents.
export function clientBulkWriteResultDocument(result) {
  if (result == null) return result;
  const doc = {
    insertedCount: result.insertedCount,
    upsertedCount: result.upsertedCount,
    matchedCount: result.matchedCount,
    modifiedCount: result.modifiedCount,
    deletedCount: result.deletedCount,
  };
  const mapToDoc = (map) => {
    if (!map) return undefined;
    const out = {};
    for (const [k, v] of map) out[String(k)] = { ...v };
    return out;
  };
  if (result.insertResults) doc.insertResults = mapToDoc(result.insertResults);
  if (result.updateResults) doc.updateResults = mapToDoc(result.updateResults);
  if (result.deleteResults) doc.deleteResults = mapToDoc(result.deleteResults);
  return doc;
}
