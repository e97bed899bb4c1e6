// Accounts (eNZi's /enzi/v0/accounts, inventory §2.2) and DTR's account removal
// (/api/v0/accounts/{namespace}, §2.3).
#include "api/resources.h"
#include "api/routes.h"
#include "auth/password.h"

namespace dtr::api {

namespace {

constexpr size_t kMinPassword = 8;
constexpr size_t kMaxPassword = 1024;

bool ValidPassword(Call& c, const std::string& field, const std::string& password) {
  if (password.size() >= kMinPassword) return true;
  c.Fail(err::kInvalidParameters,
         field + " must be at least " + std::to_string(kMinPassword) + " characters long");
  return false;
}

void ListAccounts(Call& c) {
  std::string filter = c.QueryStr("filter");
  if (filter.empty()) filter = "all";
  if (filter != "all" && filter != "users" && filter != "orgs" && filter != "admins" &&
      filter != "non-admins") {
    return c.Fail(
        err::kInvalidParameters,
        "filter must be one of users, orgs, admins, non-admins, all; not '" + filter + "'");
  }
  std::string start = c.QueryStr("start");
  auto limit = c.QueryInt("limit", 10, 1, 1000);
  if (!limit) return;
  json accounts = json::array();
  std::string next;
  std::string bound = BoundBefore(start);
  while (next.empty()) {
    auto batch = c.deps.identity->ListAccounts(filter, bound, 200);
    if (!batch.ok()) return c.Internal(batch.status());
    for (const auto& a : *batch) {
      bound = a.name;
      if (a.name < start) continue;
      if (accounts.size() == static_cast<size_t>(*limit)) {
        next = a.name;
        break;
      }
      accounts.push_back(AccountJson(c, a));
    }
    if (batch->size() < 200) break;
  }
  if (!next.empty()) c.res.headers.Set("X-Next-Page-Start", next);
  c.Reply(200, {{"accounts", accounts}, {"nextPageStart", next}});
}

void CreateAccount(Call& c) {
  auto body = c.BodyObject();
  if (!body) return;
  meta::Account a;
  std::string password;
  Form f(*body);
  f.Str("name", &a.name, true, 255)
      .Str("fullName", &a.full_name, false, 255)
      .Bool("isOrg", &a.is_org)
      .Bool("isAdmin", &a.is_admin)
      .Bool("isActive", &a.is_active)
      .Str("password", &password, false, kMaxPassword);
  if (!f.ok()) return c.Fail(err::kInvalidParameters, f.error());
  if (!a.is_org && !c.is_admin()) {
    return c.Fail(err::kNotAuthorized, "only system administrators may create users");
  }
  if (Status s = ValidateAccountName(a.name, "account"); !s.ok()) {
    return c.Fail(err::kInvalidParameters, s.message());
  }
  if (a.is_org) {
    if (a.is_admin) return c.Fail(err::kInvalidParameters, "an organization cannot be an admin");
    if (!password.empty()) {
      return c.Fail(err::kInvalidParameters, "an organization has no password");
    }
  } else {
    if (!f.Has("password")) return c.Fail(err::kInvalidParameters, "field 'password' is required");
    if (!ValidPassword(c, "password", password)) return;
    a.password_hash = auth::HashPassword(password, c.deps.password_iterations);
  }
  Status s = c.deps.identity->CreateAccount(&a);
  if (s.is(Code::kAlreadyExists)) {
    return c.Fail(err::kAccountExists, "an account named " + a.name + " already exists");
  }
  if (!s.ok()) return c.Internal(s);
  if (a.is_org) {
    // Whoever creates an organization administers it.
    s = c.deps.identity->SetOrgMember({a.id, c.user()->id, true, false});
    if (!s.ok()) return c.Internal(s);
  }
  c.Reply(201, AccountJson(c, a));
}

void GetAccount(Call& c) {
  auto a = FindAccount(c, c.Param("accountNameOrID"));
  if (a) c.Reply(200, AccountJson(c, *a));
}

void UpdateAccount(Call& c) {
  auto a = FindAccount(c, c.Param("accountNameOrID"));
  if (!a) return;
  auto body = c.BodyObject();
  if (!body) return;
  meta::Account next = *a;
  Form f(*body);
  f.Str("fullName", &next.full_name, false, 255)
      .Bool("isAdmin", &next.is_admin)
      .Bool("isActive", &next.is_active);
  if (!f.ok()) return c.Fail(err::kInvalidParameters, f.error());
  bool self = c.user()->id == a->id;
  if (!c.is_admin()) {
    if (next.is_admin != a->is_admin || next.is_active != a->is_active) {
      return c.Fail(err::kNotAuthorized,
                    "only system administrators may change isAdmin or isActive");
    }
    if (!self && !(a->is_org && IsOrgAdmin(c, *a))) {
      return c.Fail(err::kNotAuthorized,
                    "you may change only your own account or an "
                    "organization you administer");
    }
  }
  if (a->is_org && next.is_admin) {
    return c.Fail(err::kInvalidParameters, "an organization cannot be an admin");
  }
  if (Status s = c.deps.identity->UpdateAccount(next); !s.ok()) return c.Internal(s);
  c.Reply(200, AccountJson(c, next));
}

// Removes every repository of a namespace, then the account (memberships, teams, their
// grants and API tokens go with it).
void DeleteNamespace(Call& c, const std::string& ns, const std::optional<meta::Account>& account) {
  while (true) {
    auto repos = c.deps.identity->ListRepositoryRecords(ns, "", 100);
    if (!repos.ok()) return c.Internal(repos.status());
    if (repos->empty()) break;
    for (const auto& r : *repos) {
      if (Status s = DeleteRepositoryEverywhere(c, r.namespace_name, r.name); !s.ok()) {
        return c.Internal(s);
      }
      RecordEvent(c, MakeEvent("DELETE", "REPOSITORY", r.full_name(), RepositoryJson(c, r).dump(),
                               r.full_name()));
    }
  }
  auto grants = c.deps.identity->ListNamespaceGrants(ns);
  if (!grants.ok()) return c.Internal(grants.status());
  for (const auto& g : *grants) {
    if (Status s = c.deps.identity->RemoveNamespaceGrant(ns, g.team_id); !s.ok()) {
      return c.Internal(s);
    }
  }
  if (account) {
    if (Status s = c.deps.identity->DeleteAccount(account->id); !s.ok()) return c.Internal(s);
  }
  c.NoContent();
}

void DeleteAccount(Call& c) {
  auto a = FindAccount(c, c.Param("accountNameOrID"));
  if (!a) return;
  if (a->id == c.user()->id) {
    return c.Fail(err::kInvalidParameters, "you cannot delete your own account");
  }
  DeleteNamespace(c, a->name, a);
}

void DeleteApiAccount(Call& c) {
  const std::string& ns = c.Param("namespace");
  auto a = c.deps.identity->GetAccount(ns);
  if (!a.ok()) return c.Internal(a.status());
  if (a->has_value() && (*a)->id == c.user()->id) {
    return c.Fail(err::kInvalidParameters, "you cannot delete your own account");
  }
  DeleteNamespace(c, a->has_value() ? (*a)->name : ns, *a);
}

void ChangePassword(Call& c) {
  auto u = FindUser(c, c.Param("userNameOrID"));
  if (!u) return;
  bool self = c.user()->id == u->id;
  if (!self && !c.is_admin()) {
    return c.Fail(err::kNotAuthorized, "you may change only your own password");
  }
  auto body = c.BodyObject();
  if (!body) return;
  std::string old_password, new_password;
  Form f(*body);
  f.Str("oldPassword", &old_password, false, kMaxPassword)
      .Str("newPassword", &new_password, true, kMaxPassword);
  if (!f.ok()) return c.Fail(err::kInvalidParameters, f.error());
  if (!c.is_admin()) {
    if (!f.Has("oldPassword")) {
      return c.Fail(err::kInvalidParameters, "field 'oldPassword' is required");
    }
    if (!auth::VerifyPassword(old_password, u->password_hash)) {
      return c.Fail(err::kNotAuthorized, "oldPassword is not the current password");
    }
  }
  if (!ValidPassword(c, "newPassword", new_password)) return;
  u->password_hash = auth::HashPassword(new_password, c.deps.password_iterations);
  if (Status s = c.deps.identity->UpdateAccount(*u); !s.ok()) return c.Internal(s);
  c.Reply(200, AccountJson(c, *u));
}

void UserOrganizations(Call& c) {
  auto u = FindUser(c, c.Param("userNameOrID"));
  if (!u) return;
  bool all = c.is_admin() || c.user()->id == u->id;
  auto memberships = c.deps.identity->ListUserOrgs(u->id);
  if (!memberships.ok()) return c.Internal(memberships.status());
  json orgs = json::array();
  for (const auto& m : *memberships) {
    if (!all && !m.is_public) continue;
    auto org = c.deps.identity->GetAccount(m.org_id);
    if (!org.ok()) return c.Internal(org.status());
    if (!org->has_value()) continue;
    orgs.push_back(
        {{"org", AccountJson(c, **org)}, {"isAdmin", m.is_admin}, {"isPublic", m.is_public}});
  }
  c.Reply(200, {{"memberOrgs", orgs}});
}

}  // namespace

void AddAccountRoutes(RouteTable& t) {
  const std::string kAcct = "/enzi/v0/accounts";
  t.Add("GET", kAcct, Caller::kUser, ListAccounts)
      .Tag("accounts")
      .Summary("List users and organizations, by name")
      .Permission("any authenticated user")
      .Query({{"filter", "string", "users, orgs, admins, non-admins or all (default)"},
              {"start", "string", "name of the first account of the page"},
              {"limit", "integer", "accounts per page, 1-1000 (default 10)"}})
      .Returns(200, "responses.Accounts")
      .Errors({err::kInvalidParameters});
  t.Add("POST", kAcct, Caller::kUser, CreateAccount)
      .Tag("accounts")
      .Summary("Create a user or an organization")
      .Permission(
          "system admins create users; any user creates organizations, which they "
          "then administer")
      .Body("forms.CreateAccount")
      .Returns(201, "responses.Account")
      .Errors({err::kNotAuthorized, err::kInvalidParameters, err::kAccountExists});
  t.Add("GET", kAcct + "/{accountNameOrID}", Caller::kUser, GetAccount)
      .Tag("accounts")
      .Summary("Get an account")
      .Permission("any authenticated user")
      .Returns(200, "responses.Account")
      .Errors({err::kNoSuchAccount});
  t.Add("PATCH", kAcct + "/{accountNameOrID}", Caller::kUser, UpdateAccount)
      .Tag("accounts")
      .Summary("Update an account's fullName, isAdmin or isActive")
      .Permission(
          "the user (fullName only), an organization's admins (fullName only), "
          "system admins")
      .Body("forms.UpdateAccount")
      .Returns(200, "responses.Account")
      .Errors({err::kNoSuchAccount, err::kNotAuthorized, err::kInvalidParameters});
  t.Add("DELETE", kAcct + "/{accountNameOrID}", Caller::kAdmin, DeleteAccount)
      .Tag("accounts")
      .Summary("Delete an account and every repository in its namespace")
      .Permission("system admins")
      .Returns(204)
      .Errors({err::kNoSuchAccount, err::kInvalidParameters});
  t.Add("POST", kAcct + "/{userNameOrID}/changePassword", Caller::kUser, ChangePassword)
      .Tag("accounts")
      .Summary("Change a user's password")
      .Permission("the user, who must give oldPassword; system admins, who need not")
      .Body("forms.ChangePassword")
      .Returns(200, "responses.Account")
      .Errors({err::kNoSuchUser, err::kNotAuthorized, err::kInvalidParameters});
  t.Add("GET", kAcct + "/{userNameOrID}/organizations", Caller::kUser, UserOrganizations)
      .Tag("accounts")
      .Summary("A user's organization memberships")
      .Permission(
          "any authenticated user; others than the user and system admins see only "
          "public memberships")
      .Returns(200, "responses.MemberOrgs")
      .Errors({err::kNoSuchUser});
  t.Add("DELETE", "/api/v0/accounts/{namespace}", Caller::kAdmin, DeleteApiAccount)
      .Tag("accounts")
      .Summary("Remove a user or organization and all its repositories (204 even if absent)")
      .Permission("system admins")
      .Returns(204)
      .Errors({err::kInvalidParameters});
}

}  // namespace dtr::api
