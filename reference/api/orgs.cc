// Organization members, teams and team members (eNZi, inventory §2.2). Organization admins
// and system admins manage them; members see them; others see public memberships only.
#include "api/resources.h"
#include "api/routes.h"

namespace dtr::api {

namespace {

const char* kOrg = "orgNameOrID";
const char* kMember = "memberNameOrID";
const char* kTeam = "teamNameOrID";

// A page of memberships (ordered by member name) as {members, nextPageStart}.
void ReplyMembers(Call& c, const std::vector<meta::Membership>& list, bool public_only) {
  std::string filter = c.QueryStr("filter");
  if (filter.empty()) filter = "all";
  if (filter != "all" && filter != "admins" && filter != "non-admins") {
    return c.Fail(err::kInvalidParameters,
                  "filter must be one of admins, non-admins, all; not '" + filter + "'");
  }
  std::string start = c.QueryStr("start");
  auto limit = c.QueryInt("limit", 100, 1, 1000);
  if (!limit) return;
  json members = json::array();
  std::string next;
  for (const auto& m : list) {
    if (public_only && !m.is_public) continue;
    if ((filter == "admins" && !m.is_admin) || (filter == "non-admins" && m.is_admin)) continue;
    auto u = c.deps.identity->GetAccount(m.user_id);
    if (!u.ok()) return c.Internal(u.status());
    if (!u->has_value() || (*u)->name < start) continue;
    if (members.size() == static_cast<size_t>(*limit)) {
      next = (*u)->name;
      break;
    }
    members.push_back(MemberJson(c, **u, m));
  }
  if (!next.empty()) c.res.headers.Set("X-Next-Page-Start", next);
  c.Reply(200, {{"members", members}, {"nextPageStart", next}});
}

bool RequireOrgAdmin(Call& c, const meta::Account& org) {
  if (IsOrgAdmin(c, org)) return true;
  c.Fail(err::kNotAuthorized, "only admins of organization " + org.name + " may do this");
  return false;
}

bool RequireOrgMember(Call& c, const meta::Account& org) {
  if (IsOrgMember(c, org)) return true;
  c.Fail(err::kNotAuthorized, "only members of organization " + org.name + " may see this");
  return false;
}

// Reads {isAdmin, isPublic} into m; false after replying 400.
bool ReadMembership(Call& c, meta::Membership* m) {
  auto body = c.BodyObject(true);
  if (!body) return false;
  Form f(*body);
  f.Bool("isAdmin", &m->is_admin).Bool("isPublic", &m->is_public);
  if (!f.ok()) c.Fail(err::kInvalidParameters, f.error());
  return f.ok();
}

// ---- organization members ----

void ListOrgMembers(Call& c) {
  auto org = FindOrg(c, c.Param(kOrg));
  if (!org) return;
  auto list = c.deps.identity->ListOrgMembers(org->id);
  if (!list.ok()) return c.Internal(list.status());
  ReplyMembers(c, *list, !IsOrgMember(c, *org));
}

void ListOrgPublicMembers(Call& c) {
  auto org = FindOrg(c, c.Param(kOrg));
  if (!org) return;
  auto list = c.deps.identity->ListOrgMembers(org->id);
  if (!list.ok()) return c.Internal(list.status());
  ReplyMembers(c, *list, true);
}

// The membership of {memberNameOrID} in {orgNameOrID} as the caller may see it.
struct OrgMember {
  meta::Account org;
  meta::Account user;
  std::optional<meta::Membership> membership;
};
std::optional<OrgMember> LoadOrgMember(Call& c) {
  auto org = FindOrg(c, c.Param(kOrg));
  if (!org) return std::nullopt;
  auto user = FindUser(c, c.Param(kMember));
  if (!user) return std::nullopt;
  auto m = c.deps.identity->GetOrgMember(org->id, user->id);
  if (!m.ok()) {
    c.Internal(m.status());
    return std::nullopt;
  }
  return OrgMember{*org, *user, *m};
}

void GetOrgMember(Call& c) {
  auto om = LoadOrgMember(c);
  if (!om) return;
  bool self = c.user()->id == om->user.id;
  if (!om->membership || !(om->membership->is_public || self || IsOrgMember(c, om->org))) {
    return c.Fail(err::kNoSuchUser,
                  om->user.name + " is not a member of organization " + om->org.name);
  }
  c.Reply(200, MemberJson(c, om->user, *om->membership));
}

void PutOrgMember(Call& c) {
  auto om = LoadOrgMember(c);
  if (!om || !RequireOrgAdmin(c, om->org)) return;
  meta::Membership m{om->org.id, om->user.id, false, false};
  if (!ReadMembership(c, &m)) return;
  if (Status s = c.deps.identity->SetOrgMember(m); !s.ok()) return c.Internal(s);
  c.Reply(200, MemberJson(c, om->user, m));
}

void PatchOrgMember(Call& c) {
  auto om = LoadOrgMember(c);
  if (!om) return;
  bool self = c.user()->id == om->user.id;
  bool admin = IsOrgAdmin(c, om->org);
  if (!admin && !self) {
    return c.Fail(err::kNotAuthorized, "only admins of organization " + om->org.name +
                                           " and the member may change a membership");
  }
  if (!om->membership) {
    return c.Fail(err::kNoSuchUser,
                  om->user.name + " is not a member of organization " + om->org.name);
  }
  meta::Membership m = *om->membership;
  if (!ReadMembership(c, &m)) return;
  if (!admin && m.is_admin != om->membership->is_admin) {
    return c.Fail(err::kNotAuthorized, "members may change only isPublic of their membership");
  }
  if (Status s = c.deps.identity->SetOrgMember(m); !s.ok()) return c.Internal(s);
  c.Reply(200, MemberJson(c, om->user, m));
}

void DeleteOrgMember(Call& c) {
  auto om = LoadOrgMember(c);
  if (!om) return;
  bool self = c.user()->id == om->user.id;
  if (!self && !RequireOrgAdmin(c, om->org)) return;
  if (om->membership) {
    Status s = c.deps.identity->RemoveOrgMember(om->org.id, om->user.id);
    if (!s.ok()) return c.Internal(s);
  }
  c.NoContent();
}

void MemberTeams(Call& c) {
  auto om = LoadOrgMember(c);
  if (!om) return;
  bool self = c.user()->id == om->user.id;
  if (!self && !RequireOrgMember(c, om->org)) return;
  auto teams = c.deps.identity->ListUserTeams(om->user.id);
  if (!teams.ok()) return c.Internal(teams.status());
  json out = json::array();
  for (const auto& t : *teams) {
    if (t.org_id == om->org.id) out.push_back(TeamJson(c, t));
  }
  c.Reply(200, {{"memberTeams", out}});
}

// ---- teams ----

void ListTeams(Call& c) {
  auto org = FindOrg(c, c.Param(kOrg));
  if (!org || !RequireOrgMember(c, *org)) return;
  auto teams = c.deps.identity->ListTeams(org->id);
  if (!teams.ok()) return c.Internal(teams.status());
  json out = json::array();
  for (const auto& t : *teams) out.push_back(TeamJson(c, t));
  c.Reply(200, {{"teams", out}});
}

void CreateTeam(Call& c) {
  auto org = FindOrg(c, c.Param(kOrg));
  if (!org || !RequireOrgAdmin(c, *org)) return;
  auto body = c.BodyObject();
  if (!body) return;
  meta::Team t;
  t.org_id = org->id;
  Form f(*body);
  f.Str("name", &t.name, true, 255).Str("description", &t.description, false, 1024);
  if (!f.ok()) return c.Fail(err::kInvalidParameters, f.error());
  if (Status s = ValidateAccountName(t.name, "team"); !s.ok()) {
    return c.Fail(err::kInvalidParameters, s.message());
  }
  Status s = c.deps.identity->CreateTeam(&t);
  if (s.is(Code::kAlreadyExists)) {
    return c.Fail(err::kTeamExists, "organization " + org->name + " already has a team " + t.name);
  }
  if (!s.ok()) return c.Internal(s);
  c.Reply(201, TeamJson(c, t));
}

struct OrgTeam {
  meta::Account org;
  meta::Team team;
};
std::optional<OrgTeam> LoadTeam(Call& c) {
  auto org = FindOrg(c, c.Param(kOrg));
  if (!org) return std::nullopt;
  auto team = FindTeam(c, *org, c.Param(kTeam));
  if (!team) return std::nullopt;
  return OrgTeam{*org, *team};
}

void GetTeam(Call& c) {
  auto ot = LoadTeam(c);
  if (ot && RequireOrgMember(c, ot->org)) c.Reply(200, TeamJson(c, ot->team));
}

void UpdateTeam(Call& c) {
  auto ot = LoadTeam(c);
  if (!ot || !RequireOrgAdmin(c, ot->org)) return;
  auto body = c.BodyObject();
  if (!body) return;
  meta::Team t = ot->team;
  Form f(*body);
  f.Str("name", &t.name, false, 255).Str("description", &t.description, false, 1024);
  if (!f.ok()) return c.Fail(err::kInvalidParameters, f.error());
  if (Status s = ValidateAccountName(t.name, "team"); !s.ok()) {
    return c.Fail(err::kInvalidParameters, s.message());
  }
  if (t.name != ot->team.name) {
    auto taken = c.deps.identity->GetTeam(ot->org.id, t.name);
    if (!taken.ok()) return c.Internal(taken.status());
    if (taken->has_value()) {
      return c.Fail(err::kTeamExists,
                    "organization " + ot->org.name + " already has a team " + t.name);
    }
  }
  if (Status s = c.deps.identity->UpdateTeam(t); !s.ok()) return c.Internal(s);
  c.Reply(200, TeamJson(c, t));
}

void DeleteTeam(Call& c) {
  auto ot = LoadTeam(c);
  if (!ot || !RequireOrgAdmin(c, ot->org)) return;
  if (Status s = c.deps.identity->DeleteTeam(ot->team.id); !s.ok()) return c.Internal(s);
  c.NoContent();
}

// ---- team members ----

void ListTeamMembers(Call& c) {
  auto ot = LoadTeam(c);
  if (!ot || !RequireOrgMember(c, ot->org)) return;
  auto list = c.deps.identity->ListTeamMembers(ot->team.id);
  if (!list.ok()) return c.Internal(list.status());
  ReplyMembers(c, *list, false);
}

struct TeamMember {
  OrgTeam ot;
  meta::Account user;
  std::optional<meta::Membership> membership;
};
std::optional<TeamMember> LoadTeamMember(Call& c) {
  auto ot = LoadTeam(c);
  if (!ot) return std::nullopt;
  auto user = FindUser(c, c.Param(kMember));
  if (!user) return std::nullopt;
  auto list = c.deps.identity->ListTeamMembers(ot->team.id);
  if (!list.ok()) {
    c.Internal(list.status());
    return std::nullopt;
  }
  TeamMember tm{*ot, *user, std::nullopt};
  for (const auto& m : *list) {
    if (m.user_id == user->id) tm.membership = m;
  }
  return tm;
}

void GetTeamMember(Call& c) {
  auto tm = LoadTeamMember(c);
  if (!tm || !RequireOrgMember(c, tm->ot.org)) return;
  if (!tm->membership) {
    return c.Fail(err::kNoSuchUser, tm->user.name + " is not a member of team " + tm->ot.team.name);
  }
  c.Reply(200, MemberJson(c, tm->user, *tm->membership));
}

void PutTeamMember(Call& c, bool must_exist) {
  auto tm = LoadTeamMember(c);
  if (!tm || !RequireOrgAdmin(c, tm->ot.org)) return;
  if (must_exist && !tm->membership) {
    return c.Fail(err::kNoSuchUser, tm->user.name + " is not a member of team " + tm->ot.team.name);
  }
  meta::Membership m =
      tm->membership.value_or(meta::Membership{tm->ot.org.id, tm->user.id, false, false});
  if (!ReadMembership(c, &m)) return;
  // Joining a team joins its organization.
  auto org_member = c.deps.identity->GetOrgMember(tm->ot.org.id, tm->user.id);
  if (!org_member.ok()) return c.Internal(org_member.status());
  if (!org_member->has_value()) {
    Status s = c.deps.identity->SetOrgMember({tm->ot.org.id, tm->user.id, false, false});
    if (!s.ok()) return c.Internal(s);
  }
  if (Status s = c.deps.identity->SetTeamMember(tm->ot.team.id, m); !s.ok()) return c.Internal(s);
  c.Reply(200, MemberJson(c, tm->user, m));
}

void DeleteTeamMember(Call& c) {
  auto tm = LoadTeamMember(c);
  if (!tm || !RequireOrgAdmin(c, tm->ot.org)) return;
  if (tm->membership) {
    Status s = c.deps.identity->RemoveTeamMember(tm->ot.team.id, tm->user.id);
    if (!s.ok()) return c.Internal(s);
  }
  c.NoContent();
}

}  // namespace

void AddOrgRoutes(RouteTable& t) {
  const std::string org = "/enzi/v0/accounts/{orgNameOrID}";
  const std::string member = org + "/members/{memberNameOrID}";
  const std::string team = org + "/teams/{teamNameOrID}";
  const std::string team_member = team + "/members/{memberNameOrID}";
  const std::vector<QueryParam> kMemberQuery = {
      {"filter", "string", "admins, non-admins or all (default)"},
      {"start", "string", "name of the first member of the page"},
      {"limit", "integer", "members per page, 1-1000 (default 100)"}};

  t.Add("GET", org + "/members", Caller::kUser, ListOrgMembers)
      .Tag("organizations")
      .Summary("List an organization's members")
      .Permission("any authenticated user; non-members see public memberships only")
      .Query(kMemberQuery)
      .Returns(200, "responses.Members")
      .Errors({err::kNoSuchAccount, err::kInvalidParameters});
  t.Add("GET", org + "/publicMembers", Caller::kUser, ListOrgPublicMembers)
      .Tag("organizations")
      .Summary("List an organization's public members")
      .Permission("any authenticated user")
      .Query(kMemberQuery)
      .Returns(200, "responses.Members")
      .Errors({err::kNoSuchAccount, err::kInvalidParameters});
  t.Add("GET", member, Caller::kUser, GetOrgMember)
      .Tag("organizations")
      .Summary("Get a user's membership in an organization")
      .Permission(
          "organization members, the user, system admins; others for public "
          "memberships")
      .Returns(200, "responses.Member")
      .Errors({err::kNoSuchAccount, err::kNoSuchUser});
  t.Add("PUT", member, Caller::kUser, PutOrgMember)
      .Tag("organizations")
      .Summary("Add a user to an organization or set their membership")
      .Permission("organization admins, system admins")
      .Body("forms.SetMembership")
      .Returns(200, "responses.Member")
      .Errors(
          {err::kNoSuchAccount, err::kNoSuchUser, err::kNotAuthorized, err::kInvalidParameters});
  t.Add("PATCH", member, Caller::kUser, PatchOrgMember)
      .Tag("organizations")
      .Summary("Update a user's membership in an organization")
      .Permission("organization admins, system admins; the member (isPublic only)")
      .Body("forms.SetMembership")
      .Returns(200, "responses.Member")
      .Errors(
          {err::kNoSuchAccount, err::kNoSuchUser, err::kNotAuthorized, err::kInvalidParameters});
  t.Add("DELETE", member, Caller::kUser, DeleteOrgMember)
      .Tag("organizations")
      .Summary("Remove a user from an organization and its teams")
      .Permission("organization admins, system admins, the member")
      .Returns(204)
      .Errors({err::kNoSuchAccount, err::kNoSuchUser, err::kNotAuthorized});
  t.Add("GET", member + "/teams", Caller::kUser, MemberTeams)
      .Tag("organizations")
      .Summary("The teams of an organization a user belongs to")
      .Permission("organization members, the user, system admins")
      .Returns(200, "responses.MemberTeams")
      .Errors({err::kNoSuchAccount, err::kNoSuchUser, err::kNotAuthorized});

  t.Add("GET", org + "/teams", Caller::kUser, ListTeams)
      .Tag("teams")
      .Summary("List an organization's teams")
      .Permission("organization members, system admins")
      .Returns(200, "responses.Teams")
      .Errors({err::kNoSuchAccount, err::kNotAuthorized});
  t.Add("POST", org + "/teams", Caller::kUser, CreateTeam)
      .Tag("teams")
      .Summary("Create a team")
      .Permission("organization admins, system admins")
      .Body("forms.CreateTeam")
      .Returns(201, "responses.Team")
      .Errors(
          {err::kNoSuchAccount, err::kNotAuthorized, err::kInvalidParameters, err::kTeamExists});
  t.Add("GET", team, Caller::kUser, GetTeam)
      .Tag("teams")
      .Summary("Get a team")
      .Permission("organization members, system admins")
      .Returns(200, "responses.Team")
      .Errors({err::kNoSuchAccount, err::kNoSuchTeam, err::kNotAuthorized});
  t.Add("PATCH", team, Caller::kUser, UpdateTeam)
      .Tag("teams")
      .Summary("Rename a team or change its description")
      .Permission("organization admins, system admins")
      .Body("forms.UpdateTeam")
      .Returns(200, "responses.Team")
      .Errors({err::kNoSuchAccount, err::kNoSuchTeam, err::kNotAuthorized, err::kInvalidParameters,
               err::kTeamExists});
  t.Add("DELETE", team, Caller::kUser, DeleteTeam)
      .Tag("teams")
      .Summary("Delete a team and its access grants")
      .Permission("organization admins, system admins")
      .Returns(204)
      .Errors({err::kNoSuchAccount, err::kNoSuchTeam, err::kNotAuthorized});
  t.Add("GET", team + "/members", Caller::kUser, ListTeamMembers)
      .Tag("teams")
      .Summary("List a team's members")
      .Permission("organization members, system admins")
      .Query(kMemberQuery)
      .Returns(200, "responses.Members")
      .Errors(
          {err::kNoSuchAccount, err::kNoSuchTeam, err::kNotAuthorized, err::kInvalidParameters});
  t.Add("GET", team_member, Caller::kUser, GetTeamMember)
      .Tag("teams")
      .Summary("Get a user's membership in a team")
      .Permission("organization members, system admins")
      .Returns(200, "responses.Member")
      .Errors({err::kNoSuchAccount, err::kNoSuchTeam, err::kNoSuchUser, err::kNotAuthorized});
  t.Add("PUT", team_member, Caller::kUser, [](Call& c) { PutTeamMember(c, false); })
      .Tag("teams")
      .Summary("Add a user to a team (and to its organization)")
      .Permission("organization admins, system admins")
      .Body("forms.SetMembership")
      .Returns(200, "responses.Member")
      .Errors({err::kNoSuchAccount, err::kNoSuchTeam, err::kNoSuchUser, err::kNotAuthorized,
               err::kInvalidParameters});
  t.Add("PATCH", team_member, Caller::kUser, [](Call& c) { PutTeamMember(c, true); })
      .Tag("teams")
      .Summary("Update a user's membership in a team")
      .Permission("organization admins, system admins")
      .Body("forms.SetMembership")
      .Returns(200, "responses.Member")
      .Errors({err::kNoSuchAccount, err::kNoSuchTeam, err::kNoSuchUser, err::kNotAuthorized,
               err::kInvalidParameters});
  t.Add("DELETE", team_member, Caller::kUser, DeleteTeamMember)
      .Tag("teams")
      .Summary("Remove a user from a team")
      .Permission("organization admins, system admins")
      .Returns(204)
      .Errors({err::kNoSuchAccount, err::kNoSuchTeam, err::kNoSuchUser, err::kNotAuthorized});
}

}  // namespace dtr::api
