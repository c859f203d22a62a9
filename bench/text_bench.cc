// text_bench: full-text search over the same corpus, the King James Bible
// (Debian's bible-kjv-text, one row per verse: 31,102 of them), in Docket's
// embedded engine ($text on a text index {text: "text"}, language english:
// MongoDB's tokenizer, Snowball stemming and stop words), SQLite 3 (an FTS5
// table with tokenize='porter': the original Porter stemmer, no stop words)
// and PostgreSQL 15 (a stored tsvector column under the `english`
// configuration, Snowball stemming and stop words, with a GIN index; over
// loopback through libpq), in one run. bench/run_text_bench.sh starts
// PostgreSQL, writes the verses out and runs this.
//
//   text_bench <postgres-conninfo> <scratch-dir> <verses-file> [seconds-per-case]
//
// The verses file holds one verse a line, "<book><chapter>:<verse> <text>"
// (what `bible -f Gen1:1-Rev22:21` prints). Prints two Markdown tables: each
// system's rate and Docket's ratio to the fastest other, then the row count
// each system gives for each probe of the cases that return every match.
#include <bson/bson.h>
#include <fmt/core.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "bench/measure.h"
#include "bench/query_data.h"
#include "bench/sql_clients.h"
#include "docket/engine.h"

namespace {

using Clock = std::chrono::steady_clock;
using docket::bench::Pg;
using docket::bench::PgPrepare;
using docket::bench::PgRows;
using docket::bench::SqlCheck;
double g_seconds = 2.0;

[[noreturn]] void Die(const std::string& what) {
  fmt::print(stderr, "text_bench: {}\n", what);
  std::exit(1);
}

double Measure(const std::function<void(int64_t)>& op) { return docket::bench::WarmOpsPerSecond(g_seconds, op); }

// ---- The corpus ----

struct Verse {
  int64_t id;  // 1, 2, ... in the order of the text
  std::string book;
  int chapter, verse;
  std::string text;
};

// "1Sm12:3 text..." -> book "1Sm", chapter 12, verse 3.
std::vector<Verse> ReadVerses(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot read " + path);
  std::vector<Verse> verses;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    const std::string ref = line.substr(0, space);
    const size_t colon = ref.rfind(':');
    if (space == std::string::npos || colon == std::string::npos || colon == 0) Die("not a verse: " + line);
    size_t chapter_at = colon;
    while (chapter_at > 0 && std::isdigit(static_cast<unsigned char>(ref[chapter_at - 1]))) --chapter_at;
    if (chapter_at == 0 || chapter_at == colon) Die("not a verse: " + line);
    verses.push_back({static_cast<int64_t>(verses.size()) + 1, ref.substr(0, chapter_at),
                      std::atoi(ref.c_str() + chapter_at), std::atoi(ref.c_str() + colon + 1), line.substr(space + 1)});
  }
  if (verses.empty()) Die(path + " holds no verses");
  return verses;
}

// The probes: a small fixed list per case, taken in turn (warm-up, with
// negative n, goes through the same list), so that each system's caches hold
// what a steady mix of searches leaves there and no single term is cached
// hotter than a real workload would have it.
const std::vector<std::string> kTerms = {"shepherd", "water", "bread", "sword", "wine", "mountain", "river", "lamb"};
const std::vector<std::pair<std::string, std::string>> kPairs = {
    {"lamb", "shepherd"}, {"bread", "wine"},     {"sword", "fire"},  {"light", "darkness"},
    {"river", "mountain"}, {"gold", "silver"}, {"king", "prophet"}, {"sheep", "goat"}};
// The phrases' inner words are content words or "of", which every system
// treats alike; a phrase holding another stop word would not ask the same
// question of PostgreSQL: phraseto_tsquery drops "only" from "only begotten"
// and finds every verse with "begotten" (24, against 6 in Docket and SQLite).
const std::vector<std::string> kPhrases = {"living water", "burnt offering", "holy ghost", "mercy seat",
                                           "still small voice", "daily bread", "good shepherd", "tree of life"};

size_t Pick(int64_t n, size_t k) {
  const int64_t m = static_cast<int64_t>(k);
  return static_cast<size_t>(((n % m) + m) % m);
}

docket::Document Json(const std::string& json) {
  auto d = docket::Document::FromJson(json);
  if (!d.ok()) Die(d.status().ToString());
  return *d;
}

// {$text: {$search: search}}, built as BSON as a driver hands it over.
docket::Document TextFilter(const std::string& search) {
  bson_t f = BSON_INITIALIZER, text;
  BSON_APPEND_DOCUMENT_BEGIN(&f, "$text", &text);
  BSON_APPEND_UTF8(&text, "$search", search.c_str());
  bson_append_document_end(&f, &text);
  auto filter = *docket::Document::FromBson(&f);
  bson_destroy(&f);
  return filter;
}

// ---- Docket ----

std::unique_ptr<docket::Engine> LoadDocket(const std::string& path, const std::vector<Verse>& verses) {
  auto engine = docket::bench::OpenFreshDocket(path, 512ull << 20);
  docket::Collection c = engine->collection("bench", "verses");
  auto start = Clock::now();
  std::vector<docket::Document> batch;
  for (size_t i = 0; i < verses.size(); ++i) {
    const Verse& v = verses[i];
    bson_t b = BSON_INITIALIZER;
    BSON_APPEND_INT64(&b, "_id", v.id);
    BSON_APPEND_UTF8(&b, "book", v.book.c_str());
    BSON_APPEND_INT32(&b, "chapter", v.chapter);
    BSON_APPEND_INT32(&b, "verse", v.verse);
    BSON_APPEND_UTF8(&b, "text", v.text.c_str());
    batch.push_back(*docket::Document::FromBson(&b));
    bson_destroy(&b);
    if (batch.size() == 1000 || i + 1 == verses.size()) {
      auto r = c.InsertMany(batch);
      if (!r.ok() || !r->write_errors.empty()) Die("docket insert");
      batch.clear();
    }
  }
  // The index is built over the loaded rows, as the others' are.
  auto indexed = c.CreateIndexes({Json(R"({"key": {"text": "text"}, "name": "text_text"})")});
  if (!indexed.ok()) Die(indexed.status().ToString());
  if (auto s = engine->Compact(); !s.ok()) Die(s.ToString());
  fmt::print(stderr, "docket: loaded and indexed in {:.1f}s\n", std::chrono::duration<double>(Clock::now() - start).count());
  return engine;
}

// ---- SQLite ----

// The rows live in the FTS5 table itself (book, chapter and verse stored,
// not indexed); 'optimize' merges its index into one b-tree, as Docket
// compacts and PostgreSQL vacuums after the load.
sqlite3* LoadSqlite(const std::string& path, const std::vector<Verse>& verses) {
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  SqlCheck(sqlite3_open(path.c_str(), &db), db, "open");
  SqlCheck(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-524288;"
                            "CREATE VIRTUAL TABLE verses USING fts5(book UNINDEXED, chapter UNINDEXED, verse UNINDEXED,"
                            " text, tokenize='porter')",
                        nullptr, nullptr, nullptr),
           db, "create");
  auto start = Clock::now();
  sqlite3_stmt* insert;
  SqlCheck(sqlite3_prepare_v2(db, "INSERT INTO verses(rowid, book, chapter, verse, text) VALUES(?, ?, ?, ?, ?)", -1,
                              &insert, nullptr),
           db, "prepare");
  SqlCheck(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
  for (const Verse& v : verses) {
    sqlite3_bind_int64(insert, 1, v.id);
    sqlite3_bind_text(insert, 2, v.book.data(), static_cast<int>(v.book.size()), SQLITE_STATIC);
    sqlite3_bind_int(insert, 3, v.chapter);
    sqlite3_bind_int(insert, 4, v.verse);
    sqlite3_bind_text(insert, 5, v.text.data(), static_cast<int>(v.text.size()), SQLITE_STATIC);
    SqlCheck(sqlite3_step(insert), db, "insert");
    sqlite3_reset(insert);
  }
  SqlCheck(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  sqlite3_finalize(insert);
  SqlCheck(sqlite3_exec(db, "INSERT INTO verses(verses) VALUES('optimize')", nullptr, nullptr, nullptr), db,
           "optimize");
  fmt::print(stderr, "sqlite: loaded and indexed in {:.1f}s\n", std::chrono::duration<double>(Clock::now() - start).count());
  return db;
}

sqlite3_stmt* SqlitePrepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  SqlCheck(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), db, "prepare");
  return stmt;
}

size_t SqliteRows(sqlite3* db, sqlite3_stmt* stmt, const std::string& match) {
  sqlite3_bind_text(stmt, 1, match.data(), static_cast<int>(match.size()), SQLITE_TRANSIENT);
  const int columns = sqlite3_column_count(stmt);
  size_t n = 0;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    for (int col = 0; col < columns; ++col) (void)sqlite3_column_text(stmt, col);  // the whole row comes out
    ++n;
  }
  SqlCheck(rc, db, "step");
  sqlite3_reset(stmt);
  return n;
}

// ---- PostgreSQL ----

// COPY's text format: backslash, tab and newline escaped.
std::string CopyEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// tsv is a stored generated column, so that the GIN index's rechecks (the
// phrase case's positions) and ts_rank read it instead of parsing the text.
void LoadPostgres(PGconn* pg, const std::vector<Verse>& verses) {
  auto start = Clock::now();
  PQclear(Pg(pg, "DROP TABLE IF EXISTS verses;"
                 "CREATE UNLOGGED TABLE verses(id bigint PRIMARY KEY, book text, chapter int, verse int, text text,"
                 " tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED)"));
  docket::bench::PgCopyRows(pg, "COPY verses(id, book, chapter, verse, text) FROM STDIN",
                            static_cast<int64_t>(verses.size()), [&](int64_t i) {
                              const Verse& v = verses[static_cast<size_t>(i)];
                              return fmt::format("{}\t{}\t{}\t{}\t{}\n", v.id, CopyEscape(v.book), v.chapter,
                                                 v.verse, CopyEscape(v.text));
                            });
  PQclear(Pg(pg, "CREATE INDEX verses_tsv ON verses USING gin(tsv)"));
  PQclear(Pg(pg, "VACUUM ANALYZE verses"));
  fmt::print(stderr, "postgres: loaded and indexed in {:.1f}s\n", std::chrono::duration<double>(Clock::now() - start).count());
}

struct Case {
  std::string name;
  size_t probes;             // how many probes its list has
  std::function<std::string(size_t)> label;  // probe i, for the row-count table
  // Whether it returns every match: its row counts are printed and checked;
  // otherwise it returns the top 10 and each system must give 10.
  bool all_matches;
  std::function<size_t(int64_t)> docket, sqlite, postgres;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) Die("usage: text_bench <postgres-conninfo> <scratch-dir> <verses-file> [seconds]");
  const std::string conninfo = argv[1], scratch = argv[2];
  if (argc > 4) g_seconds = std::atof(argv[4]);

  const std::vector<Verse> verses = ReadVerses(argv[3]);
  fmt::print(stderr, "corpus: {} verses\n", verses.size());
  auto engine = LoadDocket(scratch + "/docket", verses);
  docket::Collection bible = engine->collection("bench", "verses");
  sqlite3* lite = LoadSqlite(scratch + "/sqlite.db", verses);
  PGconn* pg = PQconnectdb(conninfo.c_str());
  if (PQstatus(pg) != CONNECTION_OK) Die(std::string("postgres: ") + PQerrorMessage(pg));
  LoadPostgres(pg, verses);

  // Every query returns whole rows; the top-10 case also its score.
  sqlite3_stmt* lite_all = SqlitePrepare(lite, "SELECT rowid, book, chapter, verse, text FROM verses WHERE verses MATCH ?");
  sqlite3_stmt* lite_top = SqlitePrepare(
      lite, "SELECT rowid, book, chapter, verse, text, rank FROM verses WHERE verses MATCH ? ORDER BY rank LIMIT 10");
  PgPrepare(pg, "term", "SELECT id, book, chapter, verse, text FROM verses WHERE tsv @@ plainto_tsquery('english', $1)",
            1);
  PgPrepare(pg, "top",
            "SELECT id, book, chapter, verse, text, ts_rank(tsv, q) AS score FROM verses, to_tsquery('english', $1) q"
            " WHERE tsv @@ q ORDER BY score DESC LIMIT 10",
            1);
  PgPrepare(pg, "phrase",
            "SELECT id, book, chapter, verse, text FROM verses WHERE tsv @@ phraseto_tsquery('english', $1)", 1);
  docket::FindOptions by_score;
  by_score.sort = Json(R"({"score": {"$meta": "textScore"}})");
  by_score.projection = Json(R"({"score": {"$meta": "textScore"}})");
  by_score.limit = 10;

  std::vector<Case> cases;
  cases.push_back({"one term, every matching verse",
                   kTerms.size(),
                   [](size_t i) { return kTerms[i]; },
                   true,
                   [&](int64_t n) {
                     return docket::bench::DrainDocket(bible.Find(TextFilter(kTerms[Pick(n, kTerms.size())])));
                   },
                   [&](int64_t n) { return SqliteRows(lite, lite_all, kTerms[Pick(n, kTerms.size())]); },
                   [&](int64_t n) { return PgRows(pg, "term", {kTerms[Pick(n, kTerms.size())]}); }});
  cases.push_back({"two terms OR, top 10 by relevance",
                   kPairs.size(),
                   [](size_t i) { return kPairs[i].first + " " + kPairs[i].second; },
                   false,
                   [&](int64_t n) {
                     const auto& [a, b] = kPairs[Pick(n, kPairs.size())];
                     return docket::bench::DrainDocket(bible.Find(TextFilter(a + " " + b), by_score));
                   },
                   [&](int64_t n) {
                     const auto& [a, b] = kPairs[Pick(n, kPairs.size())];
                     return SqliteRows(lite, lite_top, a + " OR " + b);
                   },
                   [&](int64_t n) {
                     const auto& [a, b] = kPairs[Pick(n, kPairs.size())];
                     return PgRows(pg, "top", {a + " | " + b});
                   }});
  cases.push_back({"phrase, every matching verse",
                   kPhrases.size(),
                   [](size_t i) { return "\"" + kPhrases[i] + "\""; },
                   true,
                   [&](int64_t n) {
                     return docket::bench::DrainDocket(
                         bible.Find(TextFilter("\"" + kPhrases[Pick(n, kPhrases.size())] + "\"")));
                   },
                   [&](int64_t n) { return SqliteRows(lite, lite_all, "\"" + kPhrases[Pick(n, kPhrases.size())] + "\""); },
                   [&](int64_t n) { return PgRows(pg, "phrase", {kPhrases[Pick(n, kPhrases.size())]}); }});

  // Row counts, checked before any timing. The three do not tokenize alike
  // (Docket and PostgreSQL stem with Snowball's English and drop its stop
  // words, each with its own tokenizer; SQLite's porter tokenizer stems with
  // the original Porter algorithm and keeps every word), so the counts need
  // not be equal: the run fails only when Docket's differs from PostgreSQL's
  // by more than 5% (a sign that one of them is not answering the same
  // question). The top-10 case ranks by three different formulas (MongoDB's
  // term scores, ts_rank, FTS5's BM25), so only that each gives 10 rows is
  // checked.
  std::string counts = "| case | probe | Docket rows | SQLite rows | PostgreSQL rows |\n|---|---|---:|---:|---:|\n";
  for (const Case& c : cases) {
    for (size_t i = 0; i < c.probes; ++i) {
      const int64_t probe = static_cast<int64_t>(i);
      const size_t d = c.docket(probe), s = c.sqlite(probe), p = c.postgres(probe);
      if (!c.all_matches) {
        if (d != 10 || s != 10 || p != 10) {
          Die(fmt::format("{}: probe {} gives {} / {} / {} rows, not 10", c.name, c.label(i), d, s, p));
        }
        continue;
      }
      counts += fmt::format("| {} | {} | {} | {} | {} |\n", c.name, c.label(i), d, s, p);
      if (p == 0 || std::fabs(static_cast<double>(d) - static_cast<double>(p)) > 0.05 * static_cast<double>(p)) {
        Die(fmt::format("{}: probe {} gives {} rows in Docket, {} in PostgreSQL ({} in SQLite)", c.name, c.label(i), d,
                        p, s));
      }
    }
  }
  // The top-10 case returns the score with each document.
  {
    auto top = bible.Find(TextFilter("lamb shepherd"), by_score);
    if (!top.ok()) Die(top.status().ToString());
    auto batch = top->NextBatch(10);
    bson_iter_t score;
    if (!batch.ok() || batch->empty() || !batch->front().Find("score", &score)) Die("docket: no textScore in the top 10");
  }

  docket::bench::PrintVersusSqlTable(cases, Measure);
  fmt::print("\n{}", counts);
  sqlite3_finalize(lite_all);
  sqlite3_finalize(lite_top);
  sqlite3_close(lite);
  PQfinish(pg);
  return 0;
}
