#include "meta/sqlite_identity_store.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <random>

namespace dtr::meta {

namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  full_name TEXT NOT NULL DEFAULT '',
  is_org INTEGER NOT NULL DEFAULT 0,
  is_admin INTEGER NOT NULL DEFAULT 0,
  is_active INTEGER NOT NULL DEFAULT 1,
  password_hash TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS org_members (
  org_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  is_admin INTEGER NOT NULL DEFAULT 0,
  is_public INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX IF NOT EXISTS org_members_user ON org_members (user_id);
CREATE TABLE IF NOT EXISTS teams (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  UNIQUE (org_id, name)
);
CREATE TABLE IF NOT EXISTS team_members (
  team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  is_admin INTEGER NOT NULL DEFAULT 0,
  is_public INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (team_id, user_id)
);
CREATE INDEX IF NOT EXISTS team_members_user ON team_members (user_id);
CREATE TABLE IF NOT EXISTS dtr_repositories (
  id TEXT PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  short_description TEXT NOT NULL DEFAULT '',
  long_description TEXT NOT NULL DEFAULT '',
  visibility TEXT NOT NULL DEFAULT 'private',
  immutable_tags INTEGER NOT NULL DEFAULT 0,
  scan_on_push INTEGER NOT NULL DEFAULT 0,
  enable_manifest_lists INTEGER NOT NULL DEFAULT 0,
  tag_limit INTEGER NOT NULL DEFAULT 0,
  pulls INTEGER NOT NULL DEFAULT 0,
  pushes INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (namespace, name)
);
CREATE TABLE IF NOT EXISTS repo_team_access (
  repo TEXT NOT NULL,
  team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  level INTEGER NOT NULL,
  PRIMARY KEY (repo, team_id)
);
CREATE TABLE IF NOT EXISTS namespace_team_access (
  namespace TEXT NOT NULL,
  team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  level INTEGER NOT NULL,
  PRIMARY KEY (namespace, team_id)
);
CREATE TABLE IF NOT EXISTS api_tokens (
  hashed_token TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  label TEXT NOT NULL DEFAULT '',
  is_active INTEGER NOT NULL DEFAULT 1,
  last_used INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  generated_by TEXT NOT NULL DEFAULT '',
  creator_ua TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  published_at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  actor_type TEXT NOT NULL,
  type TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_name TEXT NOT NULL,
  object_content TEXT NOT NULL DEFAULT '',
  target TEXT NOT NULL DEFAULT '',
  repository TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_repo ON events (repository, id);
)sql";

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

const char* kStore = "identity store";

// Bumps a version before and after a write, so a reader that cached between the two (old
// row, new version) still sees the version change afterwards.
class VersionBump {
 public:
  explicit VersionBump(std::atomic<uint64_t>* v) : v_(v) { ++*v_; }
  ~VersionBump() { ++*v_; }
  VersionBump(const VersionBump&) = delete;
  VersionBump& operator=(const VersionBump&) = delete;

 private:
  std::atomic<uint64_t>* v_;
};

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Inserts events[0..n) on `c` with one statement (stamping those without a time now) and
// fills their ids: the rows of one INSERT take consecutive ids.
Status InsertEvents(SqliteConn& c, Event* const* events, size_t n) {
  if (n == 0) return Status::Ok();
  std::string sql =
      "INSERT INTO events (published_at, actor, actor_type, type, object_type, object_name, "
      "object_content, target, repository) VALUES ";
  for (size_t i = 0; i < n; ++i)
    sql += i ? ", (?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
  auto st = c.Prepare(sql);
  int k = 1;
  int64_t now = NowMillis();
  for (size_t i = 0; i < n; ++i) {
    Event* e = events[i];
    if (!e->published_at) e->published_at = now;
    st.Bind(k, e->published_at).Bind(k + 1, e->actor).Bind(k + 2, e->actor_type);
    st.Bind(k + 3, e->type).Bind(k + 4, e->object_type).Bind(k + 5, e->object_name);
    st.Bind(k + 6, e->object_content).Bind(k + 7, e->target).Bind(k + 8, e->repository);
    k += 9;
  }
  if (Status s = st.Run(); !s.ok()) return s;
  int64_t last = sqlite3_last_insert_rowid(c.raw());
  for (size_t i = 0; i < n; ++i) events[i]->id = last - static_cast<int64_t>(n - 1 - i);
  return Status::Ok();
}

Status InsertEvent(SqliteConn& c, Event* e) { return InsertEvents(c, &e, 1); }

template <class Fn>
auto Guard(Fn&& fn) -> decltype(fn()) {
  return GuardSql(kStore, std::forward<Fn>(fn));
}

template <class T, class Bind, class Row>
Result<std::vector<T>> Query(SqliteDb* db, const std::string& sql, Bind&& bind, Row&& row) {
  return QueryRows<T>(kStore, db, sql, std::forward<Bind>(bind), std::forward<Row>(row));
}

// Constraint violations say only "already exists"; creators add what it was.
template <class Bind>
Status Exec(SqliteDb* db, const std::string& sql, Bind&& bind) {
  auto n = ExecSql(kStore, db, sql, std::forward<Bind>(bind));
  if (n.ok()) return Status::Ok();
  if (n.status().is(Code::kAlreadyExists)) return Status(Code::kAlreadyExists, "already exists");
  return n.status();
}

template <class T>
Result<std::optional<T>> First(Result<std::vector<T>> rows) {
  return FirstRow(std::move(rows));
}

const char* kAccountCols =
    "id, name, full_name, is_org, is_admin, is_active, password_hash, created_at";
Account AccountRow(SqliteStmt& s) {
  return Account{s.Text(0),     s.Text(1),     s.Text(2), s.Int(3) != 0,
                 s.Int(4) != 0, s.Int(5) != 0, s.Text(6), s.Int(7)};
}
Membership MemberRow(SqliteStmt& s) {
  return Membership{s.Text(0), s.Text(1), s.Int(2) != 0, s.Int(3) != 0};
}
Team TeamRow(SqliteStmt& s) { return Team{s.Text(0), s.Text(1), s.Text(2), s.Text(3)}; }
const char* kRepoCols =
    "id, namespace, name, short_description, long_description, visibility, immutable_tags, "
    "scan_on_push, enable_manifest_lists, tag_limit, pulls, pushes, created_at";
Repository RepoRow(SqliteStmt& s) {
  Repository r;
  r.id = s.Text(0);
  r.namespace_name = s.Text(1);
  r.name = s.Text(2);
  r.short_description = s.Text(3);
  r.long_description = s.Text(4);
  r.visibility = s.Text(5);
  r.immutable_tags = s.Int(6) != 0;
  r.scan_on_push = s.Int(7) != 0;
  r.enable_manifest_lists = s.Int(8) != 0;
  r.tag_limit = s.Int(9);
  r.pulls = s.Int(10);
  r.pushes = s.Int(11);
  r.created_at = s.Int(12);
  return r;
}
TeamGrant GrantRow(SqliteStmt& s) {
  return TeamGrant{s.Text(0), s.Text(1), static_cast<AccessLevel>(s.Int(2))};
}
const char* kTokenCols =
    "hashed_token, account_id, label, is_active, last_used, created_at, generated_by, creator_ua";
ApiToken TokenRow(SqliteStmt& s) {
  return ApiToken{s.Text(0), s.Text(1), s.Text(2), s.Int(3) != 0,
                  s.Int(4),  s.Int(5),  s.Text(6), s.Text(7)};
}

// WHERE clause and binder for event queries.
struct EventFilter {
  std::string where = " WHERE 1=1";
  std::vector<std::string> texts;
  std::vector<int64_t> ints;
  std::vector<bool> is_text;
  void Text(const std::string& clause, const std::string& v) {
    where += clause;
    texts.push_back(v);
    is_text.push_back(true);
  }
  void Int(const std::string& clause, int64_t v) {
    where += clause;
    ints.push_back(v);
    is_text.push_back(false);
  }
  void Bind(SqliteStmt& st) const {
    size_t t = 0, n = 0;
    for (size_t i = 0; i < is_text.size(); ++i) {
      if (is_text[i]) {
        st.Bind(static_cast<int>(i + 1), texts[t++]);
      } else {
        st.Bind(static_cast<int>(i + 1), ints[n++]);
      }
    }
  }
};

EventFilter FilterOf(const EventQuery& q, bool paged) {
  EventFilter f;
  if (!q.repository.empty()) f.Text(" AND repository = ?", q.repository);
  if (!q.actor.empty()) f.Text(" AND actor = ?", q.actor);
  if (!q.type.empty()) f.Text(" AND type = ?", q.type);
  if (!q.object_type.empty()) f.Text(" AND object_type = ?", q.object_type);
  if (q.published_before) f.Int(" AND published_at < ?", q.published_before);
  if (q.published_after) f.Int(" AND published_at > ?", q.published_after);
  if (q.exclude_pull) f.where += " AND type != 'GET'";
  if (paged && q.page_start) f.Int(" AND id < ?", q.page_start);
  return f;
}

}  // namespace

const char* AccessLevelName(AccessLevel l) {
  switch (l) {
    case AccessLevel::kReadOnly:
      return "read-only";
    case AccessLevel::kReadWrite:
      return "read-write";
    case AccessLevel::kAdmin:
      return "admin";
    default:
      return "none";
  }
}

std::optional<AccessLevel> ParseAccessLevel(const std::string& s) {
  if (s == "read-only") return AccessLevel::kReadOnly;
  if (s == "read-write") return AccessLevel::kReadWrite;
  if (s == "admin") return AccessLevel::kAdmin;
  return std::nullopt;
}

std::string NewId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return std::string(buf).substr(0, 8) + "-" + std::string(buf).substr(8, 4) + "-" +
         std::string(buf).substr(12, 4) + "-" + std::string(buf).substr(16, 4) + "-" +
         std::string(buf).substr(20, 12);
}

Result<std::unique_ptr<SqliteIdentityStore>> SqliteIdentityStore::Open(SqliteDb* db) {
  Status s =
      Guard([&]() -> Status { return db->With([](SqliteConn& c) { return c.Exec(kSchema); }); });
  if (!s.ok()) return s;
  return std::unique_ptr<SqliteIdentityStore>(new SqliteIdentityStore(db));
}

Status SqliteIdentityStore::CreateAccount(Account* a) {
  if (a->id.empty()) a->id = NewId();
  if (!a->created_at) a->created_at = Now();
  Status s = Exec(
      db_,
      std::string("INSERT INTO accounts (") + kAccountCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      [&](SqliteStmt& st) {
        st.Bind(1, a->id).Bind(2, a->name).Bind(3, a->full_name);
        st.Bind(4, int64_t{a->is_org}).Bind(5, int64_t{a->is_admin});
        st.Bind(6, int64_t{a->is_active}).Bind(7, a->password_hash);
        st.Bind(8, a->created_at);
      });
  if (s.is(Code::kAlreadyExists))
    return Status(Code::kAlreadyExists, "account " + a->name + " already exists");
  return s;
}

Result<std::optional<Account>> SqliteIdentityStore::GetAccount(const std::string& name_or_id) {
  return First(Query<Account>(
      db_, std::string("SELECT ") + kAccountCols + " FROM accounts WHERE name = ? OR id = ?",
      [&](SqliteStmt& st) { st.Bind(1, name_or_id).Bind(2, name_or_id); }, AccountRow));
}

Status SqliteIdentityStore::UpdateAccount(const Account& a) {
  VersionBump bump(&accounts_version_);
  return Exec(db_,
              "UPDATE accounts SET full_name = ?, is_admin = ?, is_active = ?, password_hash = ? "
              "WHERE id = ?",
              [&](SqliteStmt& st) {
                st.Bind(1, a.full_name).Bind(2, int64_t{a.is_admin}).Bind(3, int64_t{a.is_active});
                st.Bind(4, a.password_hash).Bind(5, a.id);
              });
}

Status SqliteIdentityStore::DeleteAccount(const std::string& id) {
  VersionBump bump(&accounts_version_);
  return Exec(db_, "DELETE FROM accounts WHERE id = ?", [&](SqliteStmt& st) { st.Bind(1, id); });
}

Result<std::vector<Account>> SqliteIdentityStore::ListAccounts(const std::string& filter,
                                                               const std::string& start,
                                                               size_t limit) {
  std::string where = " WHERE name > ?";
  if (filter == "users") where += " AND is_org = 0";
  if (filter == "orgs") where += " AND is_org = 1";
  if (filter == "admins") where += " AND is_admin = 1";
  if (filter == "non-admins") where += " AND is_admin = 0 AND is_org = 0";
  return Query<Account>(
      db_,
      std::string("SELECT ") + kAccountCols + " FROM accounts" + where + " ORDER BY name LIMIT ?",
      [&](SqliteStmt& st) {
        st.Bind(1, start).Bind(2, limit ? static_cast<int64_t>(limit) : int64_t{-1});
      },
      AccountRow);
}

Status SqliteIdentityStore::SetOrgMember(const Membership& m) {
  return Exec(db_,
              "INSERT INTO org_members (org_id, user_id, is_admin, is_public) VALUES (?, ?, ?, ?) "
              "ON CONFLICT (org_id, user_id) DO UPDATE SET is_admin = excluded.is_admin, "
              "is_public = excluded.is_public",
              [&](SqliteStmt& st) {
                st.Bind(1, m.org_id).Bind(2, m.user_id).Bind(3, int64_t{m.is_admin});
                st.Bind(4, int64_t{m.is_public});
              });
}

Status SqliteIdentityStore::RemoveOrgMember(const std::string& org_id, const std::string& user_id) {
  // Leaving an organization also leaves its teams.
  Status s = Exec(db_,
                  "DELETE FROM team_members WHERE user_id = ? AND team_id IN "
                  "(SELECT id FROM teams WHERE org_id = ?)",
                  [&](SqliteStmt& st) { st.Bind(1, user_id).Bind(2, org_id); });
  if (!s.ok()) return s;
  return Exec(db_, "DELETE FROM org_members WHERE org_id = ? AND user_id = ?",
              [&](SqliteStmt& st) { st.Bind(1, org_id).Bind(2, user_id); });
}

Result<std::optional<Membership>> SqliteIdentityStore::GetOrgMember(const std::string& org_id,
                                                                    const std::string& user_id) {
  return First(Query<Membership>(
      db_,
      "SELECT org_id, user_id, is_admin, is_public FROM org_members WHERE org_id = ? AND "
      "user_id = ?",
      [&](SqliteStmt& st) { st.Bind(1, org_id).Bind(2, user_id); }, MemberRow));
}

Result<std::vector<Membership>> SqliteIdentityStore::ListOrgMembers(const std::string& org_id) {
  return Query<Membership>(
      db_,
      "SELECT m.org_id, m.user_id, m.is_admin, m.is_public FROM org_members m JOIN accounts a "
      "ON a.id = m.user_id WHERE m.org_id = ? ORDER BY a.name",
      [&](SqliteStmt& st) { st.Bind(1, org_id); }, MemberRow);
}

Result<std::vector<Membership>> SqliteIdentityStore::ListUserOrgs(const std::string& user_id) {
  return Query<Membership>(
      db_,
      "SELECT m.org_id, m.user_id, m.is_admin, m.is_public FROM org_members m JOIN accounts a "
      "ON a.id = m.org_id WHERE m.user_id = ? ORDER BY a.name",
      [&](SqliteStmt& st) { st.Bind(1, user_id); }, MemberRow);
}

Status SqliteIdentityStore::CreateTeam(Team* t) {
  if (t->id.empty()) t->id = NewId();
  Status s = Exec(db_, "INSERT INTO teams (id, org_id, name, description) VALUES (?, ?, ?, ?)",
                  [&](SqliteStmt& st) {
                    st.Bind(1, t->id).Bind(2, t->org_id).Bind(3, t->name).Bind(4, t->description);
                  });
  if (s.is(Code::kAlreadyExists))
    return Status(Code::kAlreadyExists, "team " + t->name + " already exists");
  return s;
}

Result<std::optional<Team>> SqliteIdentityStore::GetTeam(const std::string& org_id,
                                                         const std::string& name_or_id) {
  return First(Query<Team>(
      db_,
      "SELECT id, org_id, name, description FROM teams WHERE org_id = ? AND (name = ? OR id = ?)",
      [&](SqliteStmt& st) { st.Bind(1, org_id).Bind(2, name_or_id).Bind(3, name_or_id); },
      TeamRow));
}

Status SqliteIdentityStore::UpdateTeam(const Team& t) {
  return Exec(db_, "UPDATE teams SET name = ?, description = ? WHERE id = ?",
              [&](SqliteStmt& st) { st.Bind(1, t.name).Bind(2, t.description).Bind(3, t.id); });
}

Status SqliteIdentityStore::DeleteTeam(const std::string& team_id) {
  return Exec(db_, "DELETE FROM teams WHERE id = ?", [&](SqliteStmt& st) { st.Bind(1, team_id); });
}

Result<std::vector<Team>> SqliteIdentityStore::ListTeams(const std::string& org_id) {
  return Query<Team>(
      db_, "SELECT id, org_id, name, description FROM teams WHERE org_id = ? ORDER BY name",
      [&](SqliteStmt& st) { st.Bind(1, org_id); }, TeamRow);
}

Status SqliteIdentityStore::SetTeamMember(const std::string& team_id, const Membership& m) {
  return Exec(
      db_,
      "INSERT INTO team_members (team_id, user_id, is_admin, is_public) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (team_id, user_id) DO UPDATE SET is_admin = excluded.is_admin, "
      "is_public = excluded.is_public",
      [&](SqliteStmt& st) {
        st.Bind(1, team_id).Bind(2, m.user_id).Bind(3, int64_t{m.is_admin});
        st.Bind(4, int64_t{m.is_public});
      });
}

Status SqliteIdentityStore::RemoveTeamMember(const std::string& team_id,
                                             const std::string& user_id) {
  return Exec(db_, "DELETE FROM team_members WHERE team_id = ? AND user_id = ?",
              [&](SqliteStmt& st) { st.Bind(1, team_id).Bind(2, user_id); });
}

Result<std::vector<Membership>> SqliteIdentityStore::ListTeamMembers(const std::string& team_id) {
  return Query<Membership>(
      db_,
      "SELECT t.org_id, m.user_id, m.is_admin, m.is_public FROM team_members m JOIN teams t ON "
      "t.id = m.team_id JOIN accounts a ON a.id = m.user_id WHERE m.team_id = ? ORDER BY a.name",
      [&](SqliteStmt& st) { st.Bind(1, team_id); }, MemberRow);
}

Result<std::vector<Team>> SqliteIdentityStore::ListUserTeams(const std::string& user_id) {
  return Query<Team>(
      db_,
      "SELECT t.id, t.org_id, t.name, t.description FROM teams t JOIN team_members m ON "
      "m.team_id = t.id WHERE m.user_id = ? ORDER BY t.name",
      [&](SqliteStmt& st) { st.Bind(1, user_id); }, TeamRow);
}

Status SqliteIdentityStore::CreateRepository(Repository* r) {
  if (r->id.empty()) r->id = NewId();
  if (!r->created_at) r->created_at = Now();
  Status s = Exec(db_,
                  std::string("INSERT INTO dtr_repositories (") + kRepoCols +
                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  [&](SqliteStmt& st) {
                    st.Bind(1, r->id).Bind(2, r->namespace_name).Bind(3, r->name);
                    st.Bind(4, r->short_description).Bind(5, r->long_description);
                    st.Bind(6, r->visibility).Bind(7, int64_t{r->immutable_tags});
                    st.Bind(8, int64_t{r->scan_on_push}).Bind(9, int64_t{r->enable_manifest_lists});
                    st.Bind(10, r->tag_limit).Bind(11, r->pulls).Bind(12, r->pushes);
                    st.Bind(13, r->created_at);
                  });
  if (s.is(Code::kAlreadyExists)) {
    return Status(Code::kAlreadyExists, "repository " + r->full_name() + " already exists");
  }
  return s;
}

Result<std::optional<Repository>> SqliteIdentityStore::GetRepository(const std::string& ns,
                                                                     const std::string& name) {
  return First(Query<Repository>(
      db_,
      std::string("SELECT ") + kRepoCols +
          " FROM dtr_repositories WHERE namespace = ? AND name = ?",
      [&](SqliteStmt& st) { st.Bind(1, ns).Bind(2, name); }, RepoRow));
}

Status SqliteIdentityStore::UpdateRepository(const Repository& r) {
  return Exec(db_,
              "UPDATE dtr_repositories SET short_description = ?, long_description = ?, "
              "visibility = ?, immutable_tags = ?, scan_on_push = ?, enable_manifest_lists = ?, "
              "tag_limit = ? WHERE namespace = ? AND name = ?",
              [&](SqliteStmt& st) {
                st.Bind(1, r.short_description).Bind(2, r.long_description).Bind(3, r.visibility);
                st.Bind(4, int64_t{r.immutable_tags}).Bind(5, int64_t{r.scan_on_push});
                st.Bind(6, int64_t{r.enable_manifest_lists}).Bind(7, r.tag_limit);
                st.Bind(8, r.namespace_name).Bind(9, r.name);
              });
}

Status SqliteIdentityStore::DeleteRepositoryRecord(const std::string& ns, const std::string& name) {
  Status s = Exec(db_, "DELETE FROM repo_team_access WHERE repo = ?",
                  [&](SqliteStmt& st) { st.Bind(1, ns + "/" + name); });
  if (!s.ok()) return s;
  return Exec(db_, "DELETE FROM dtr_repositories WHERE namespace = ? AND name = ?",
              [&](SqliteStmt& st) { st.Bind(1, ns).Bind(2, name); });
}

Result<std::vector<Repository>> SqliteIdentityStore::ListRepositoryRecords(const std::string& ns,
                                                                           const std::string& start,
                                                                           size_t limit) {
  std::string sql = std::string("SELECT ") + kRepoCols +
                    " FROM dtr_repositories WHERE (namespace || '/' || name) > ?" +
                    (ns.empty() ? "" : " AND namespace = ?") +
                    " ORDER BY namespace || '/' || name LIMIT ?";
  return Query<Repository>(
      db_, sql,
      [&](SqliteStmt& st) {
        int i = 1;
        st.Bind(i++, start);
        if (!ns.empty()) st.Bind(i++, ns);
        st.Bind(i, limit ? static_cast<int64_t>(limit) : int64_t{-1});
      },
      RepoRow);
}

Status SqliteIdentityStore::CountPull(const std::string& ns, const std::string& name) {
  return Exec(db_, "UPDATE dtr_repositories SET pulls = pulls + 1 WHERE namespace = ? AND name = ?",
              [&](SqliteStmt& st) { st.Bind(1, ns).Bind(2, name); });
}

Status SqliteIdentityStore::CountPush(const std::string& ns, const std::string& name) {
  return Exec(db_,
              "UPDATE dtr_repositories SET pushes = pushes + 1 WHERE namespace = ? AND name = ?",
              [&](SqliteStmt& st) { st.Bind(1, ns).Bind(2, name); });
}

Status SqliteIdentityStore::RecordPulls(std::vector<PullRecord>* pulls) {
  std::map<std::pair<std::string, std::string>, int64_t> counts;  // one UPDATE per repository
  for (const auto& p : *pulls) ++counts[{p.ns, p.name}];
  return Guard([&]() -> Status {
    return db_->Transaction([&](SqliteConn& c) -> Status {
      for (const auto& [repo, n] : counts) {
        auto count = c.Prepare(
            "UPDATE dtr_repositories SET pulls = pulls + ? WHERE namespace = ? AND name = ?");
        count.Bind(1, n).Bind(2, repo.first).Bind(3, repo.second);
        if (Status s = count.Run(); !s.ok()) return s;
      }
      // Many rows a statement: a busy registry stores tens of thousands of pulls a second.
      constexpr size_t kRows = 32;
      std::vector<Event*> rows;
      for (auto& p : *pulls) rows.push_back(&p.event);
      for (size_t i = 0; i < rows.size(); i += kRows) {
        size_t n = std::min(kRows, rows.size() - i);
        if (Status s = InsertEvents(c, rows.data() + i, n); !s.ok()) return s;
      }
      return Status::Ok();
    });
  });
}

Status SqliteIdentityStore::SetRepoGrant(const TeamGrant& g) {
  return Exec(db_,
              "INSERT INTO repo_team_access (repo, team_id, level) VALUES (?, ?, ?) ON CONFLICT "
              "(repo, team_id) DO UPDATE SET level = excluded.level",
              [&](SqliteStmt& st) {
                st.Bind(1, g.target).Bind(2, g.team_id).Bind(3, static_cast<int64_t>(g.level));
              });
}

Status SqliteIdentityStore::RemoveRepoGrant(const std::string& repo, const std::string& team_id) {
  return Exec(db_, "DELETE FROM repo_team_access WHERE repo = ? AND team_id = ?",
              [&](SqliteStmt& st) { st.Bind(1, repo).Bind(2, team_id); });
}

Result<std::vector<TeamGrant>> SqliteIdentityStore::ListRepoGrants(const std::string& repo) {
  return Query<TeamGrant>(
      db_, "SELECT team_id, repo, level FROM repo_team_access WHERE repo = ? ORDER BY team_id",
      [&](SqliteStmt& st) { st.Bind(1, repo); }, GrantRow);
}

Status SqliteIdentityStore::SetNamespaceGrant(const TeamGrant& g) {
  return Exec(db_,
              "INSERT INTO namespace_team_access (namespace, team_id, level) VALUES (?, ?, ?) ON "
              "CONFLICT (namespace, team_id) DO UPDATE SET level = excluded.level",
              [&](SqliteStmt& st) {
                st.Bind(1, g.target).Bind(2, g.team_id).Bind(3, static_cast<int64_t>(g.level));
              });
}

Status SqliteIdentityStore::RemoveNamespaceGrant(const std::string& ns,
                                                 const std::string& team_id) {
  return Exec(db_, "DELETE FROM namespace_team_access WHERE namespace = ? AND team_id = ?",
              [&](SqliteStmt& st) { st.Bind(1, ns).Bind(2, team_id); });
}

Result<std::vector<TeamGrant>> SqliteIdentityStore::ListNamespaceGrants(const std::string& ns) {
  return Query<TeamGrant>(
      db_,
      "SELECT team_id, namespace, level FROM namespace_team_access WHERE namespace = ? ORDER BY "
      "team_id",
      [&](SqliteStmt& st) { st.Bind(1, ns); }, GrantRow);
}

Result<std::vector<TeamGrant>> SqliteIdentityStore::ListTeamGrants(const std::string& team_id) {
  return Query<TeamGrant>(
      db_, "SELECT team_id, repo, level FROM repo_team_access WHERE team_id = ? ORDER BY repo",
      [&](SqliteStmt& st) { st.Bind(1, team_id); }, GrantRow);
}

Status SqliteIdentityStore::CreateApiToken(const ApiToken& t) {
  return Exec(
      db_,
      std::string("INSERT INTO api_tokens (") + kTokenCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      [&](SqliteStmt& st) {
        st.Bind(1, t.hashed_token).Bind(2, t.account_id).Bind(3, t.label);
        st.Bind(4, int64_t{t.is_active}).Bind(5, t.last_used);
        st.Bind(6, t.created_at ? t.created_at : Now()).Bind(7, t.generated_by);
        st.Bind(8, t.creator_ua);
      });
}

Result<std::optional<ApiToken>> SqliteIdentityStore::GetApiToken(const std::string& hashed) {
  return First(Query<ApiToken>(
      db_, std::string("SELECT ") + kTokenCols + " FROM api_tokens WHERE hashed_token = ?",
      [&](SqliteStmt& st) { st.Bind(1, hashed); }, TokenRow));
}

Status SqliteIdentityStore::UpdateApiToken(const ApiToken& t) {
  return Exec(
      db_, "UPDATE api_tokens SET label = ?, is_active = ?, last_used = ? WHERE hashed_token = ?",
      [&](SqliteStmt& st) {
        st.Bind(1, t.label).Bind(2, int64_t{t.is_active}).Bind(3, t.last_used);
        st.Bind(4, t.hashed_token);
      });
}

Status SqliteIdentityStore::DeleteApiToken(const std::string& hashed) {
  return Exec(db_, "DELETE FROM api_tokens WHERE hashed_token = ?",
              [&](SqliteStmt& st) { st.Bind(1, hashed); });
}

Result<std::vector<ApiToken>> SqliteIdentityStore::ListApiTokens(const std::string& account_id) {
  return Query<ApiToken>(
      db_,
      std::string("SELECT ") + kTokenCols +
          " FROM api_tokens WHERE account_id = ? OR ? = '' "
          "ORDER BY created_at, hashed_token",
      [&](SqliteStmt& st) { st.Bind(1, account_id).Bind(2, account_id); }, TokenRow);
}

Status SqliteIdentityStore::AddEvent(Event* e) {
  return Guard([&]() -> Status {
    return db_->With([&](SqliteConn& c) -> Status { return InsertEvent(c, e); });
  });
}

Result<std::vector<Event>> SqliteIdentityStore::ListEvents(const EventQuery& q) {
  EventFilter f = FilterOf(q, true);
  return Query<Event>(
      db_,
      "SELECT id, published_at, actor, actor_type, type, object_type, object_name, "
      "object_content, target, repository FROM events" +
          f.where + " ORDER BY id DESC LIMIT " + std::to_string(q.page_size ? q.page_size : 10),
      [&](SqliteStmt& st) { f.Bind(st); },
      [](SqliteStmt& s) {
        return Event{s.Int(0),  s.Int(1),  s.Text(2), s.Text(3), s.Text(4),
                     s.Text(5), s.Text(6), s.Text(7), s.Text(8), s.Text(9)};
      });
}

Result<int64_t> SqliteIdentityStore::CountEvents(const EventQuery& q) {
  EventFilter f = FilterOf(q, false);
  auto rows = Query<int64_t>(
      db_, "SELECT COUNT(*) FROM events" + f.where, [&](SqliteStmt& st) { f.Bind(st); },
      [](SqliteStmt& s) { return s.Int(0); });
  if (!rows.ok()) return rows.status();
  return rows->empty() ? int64_t{0} : rows->front();
}

}  // namespace dtr::meta
