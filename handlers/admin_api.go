package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"enclave/models"
	"enclave/models/clients"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/models/members"

	"github.com/labstack/echo/v4"
)

// AdminAPI serves the admin JSON API that Medplum's SDK calls
// (/admin/projects/{id}/…): the project with its members, a member's role,
// invitations and API clients. The web layer lets only admins of the
// project the path names through and hands each handler that project's
// scope; the handlers act through the same use-cases as the console's
// members and clients pages, so the same rules hold (the last admin stays,
// an invitation waits for the verified owner of its address, a client's
// secret is shown once) and every change is audited.
type AdminAPI struct {
	// Postman queues an invitation's mail when a mail server is configured.
	Postman Postman
}

// Project answers GET /admin/projects/{id}: the project and its members.
func (h *AdminAPI) Project(c echo.Context, sc models.Scope) error {
	list, err := sc.Store().Members(ctx(c))
	if err != nil {
		return err
	}
	out := adminProjectJSON{Project: projectJSON(sc), Members: make([]membershipJSON, 0, len(list))}
	for _, m := range list {
		out.Members = append(out.Members, memberJSON(sc, m))
	}
	return writeJSON(c, http.StatusOK, out)
}

// Member answers GET /admin/projects/{id}/members/{membership}; another
// project's membership is not found.
func (h *AdminAPI) Member(c echo.Context, sc models.Scope) error {
	m, err := sc.Store().Member(ctx(c), c.Param("member"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, memberJSON(sc, m))
}

// UpdateMember answers POST /admin/projects/{id}/members/{membership}: the
// body is the whole ProjectMembership, as Medplum's SDK sends it back after
// changing it. Its admin flag, active flag and access policy are saved (an
// element left out is false, true and none, as in a FHIR update); project,
// user and profile are read-only.
func (h *AdminAPI) UpdateMember(c echo.Context, sc models.Scope) error {
	var body membershipBody
	if err := readAdminJSON(c, &body); err != nil {
		return err
	}
	t := sc.Store()
	m, err := t.Member(ctx(c), c.Param("member"))
	if err != nil {
		return err
	}
	u, err := body.update(sc, m)
	if err != nil {
		return err
	}
	saved, err := t.UpdateMember(ctx(c), sc.Actor(c.RealIP()), m.Membership.ID, u)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, memberJSON(sc, saved))
}

// RemoveMember answers DELETE /admin/projects/{id}/members/{membership}.
func (h *AdminAPI) RemoveMember(c echo.Context, sc models.Scope) error {
	m, err := sc.Store().RemoveMember(ctx(c), sc.Actor(c.RealIP()), c.Param("member"))
	if err != nil {
		return err
	}
	return writeOutcome(c, http.StatusOK, outcome("information", "informational", "",
		"Removed "+m.User.Email+" from the project"))
}

// Invite answers POST /admin/projects/{id}/invite with Medplum's invite
// body. Like the console's invite form it opens an invitation to the
// address, which becomes a membership only when the verified owner of the
// address accepts it: the answer is the membership offered, with the
// invitation (its one-time link, shown in this answer only) and no id.
func (h *AdminAPI) Invite(c echo.Context, sc models.Scope) error {
	var body inviteBody
	if err := readAdminJSON(c, &body); err != nil {
		return err
	}
	in, err := body.input()
	if err != nil {
		return err
	}
	send := body.SendEmail == nil || *body.SendEmail
	letter := mail.Letter{}
	if send {
		letter = inviteLetter(c, sc, h.Postman)
	}
	got, err := sc.Store().Invite(ctx(c), sc.Actor(c.RealIP()), in, letter)
	if err != nil {
		return err
	}
	inv := got.Invitation
	out := membershipJSON{ResourceType: "ProjectMembership", Project: projectRef(sc.Access()), Admin: inv.Admin,
		AccessPolicy: policyRef(inv.AccessPolicyID),
		Invitation: &invitationJSON{ID: inv.ID, Email: inv.Email, URL: inviteURL(c, got.Token),
			Expires: inv.ExpiresAt.UTC().Format(time.RFC3339), Emailed: send && h.Postman.queued(), Reissued: got.Reissued}}
	if u := sc.User(); u.ID != "" {
		out.InvitedBy = &reference{Reference: "User/" + u.ID, Display: u.Email}
	}
	noStore(c)
	return writeJSON(c, http.StatusOK, out)
}

// CreateClient answers POST /admin/projects/{id}/client: a new API client,
// answered 201 with its secret, this once.
func (h *AdminAPI) CreateClient(c echo.Context, sc models.Scope) error {
	var body clientBody
	if err := readAdminJSON(c, &body); err != nil {
		return err
	}
	in, err := body.input()
	if err != nil {
		return err
	}
	made, secret, err := sc.Store().CreateClient(ctx(c), sc.Actor(c.RealIP()), in)
	if err != nil {
		return renameFields(err, map[string]string{"tokenLifetime": "accessTokenLifetime"})
	}
	out := clientJSON{ResourceType: "ClientApplication", ID: made.ID,
		Meta: &metaJSON{Project: sc.Project().ID, LastUpdated: stamp(made.UpdatedAt)}, Name: made.Name,
		Description: made.Description, RedirectURIs: made.RedirectURIs, AccessPolicy: policyRef(made.AccessPolicyID),
		AccessTokenLifetime: made.TokenLifetime.String(), Status: "active", Secret: secret}
	noStore(c)
	return writeJSON(c, http.StatusCreated, out)
}

// The JSON the admin API answers: Medplum's shapes, with the fields
// Enclave has.

// id is the id of a reference to a resource of type typ ("Type/id"); ok is
// false for anything else.
func (r reference) id(typ string) (id string, ok bool) {
	id, ok = strings.CutPrefix(r.Reference, typ+"/")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

type metaJSON struct {
	Project     string `json:"project,omitempty"`
	VersionID   string `json:"versionId,omitempty"`
	LastUpdated string `json:"lastUpdated,omitempty"`
}

type adminProjectJSON struct {
	Project adminProject     `json:"project"`
	Members []membershipJSON `json:"members"`
}

type adminProject struct {
	ResourceType               string     `json:"resourceType"`
	ID                         string     `json:"id"`
	Meta                       metaJSON   `json:"meta"`
	Name                       string     `json:"name"`
	Description                string     `json:"description,omitempty"`
	Owner                      *reference `json:"owner,omitempty"`
	StrictMode                 bool       `json:"strictMode"`
	CheckReferencesOnWrite     bool       `json:"checkReferencesOnWrite"`
	SuperAdmin                 bool       `json:"superAdmin"`
	Features                   []string   `json:"features,omitempty"`
	DefaultPatientAccessPolicy *reference `json:"defaultPatientAccessPolicy,omitempty"`
}

type membershipJSON struct {
	ResourceType string          `json:"resourceType"`
	ID           string          `json:"id,omitempty"`
	Meta         *metaJSON       `json:"meta,omitempty"`
	Project      reference       `json:"project"`
	User         *reference      `json:"user,omitempty"`
	Profile      *reference      `json:"profile,omitempty"`
	Admin        bool            `json:"admin"`
	Active       *bool           `json:"active,omitempty"`
	AccessPolicy *reference      `json:"accessPolicy,omitempty"`
	InvitedBy    *reference      `json:"invitedBy,omitempty"`
	Invitation   *invitationJSON `json:"invitation,omitempty"`
}

// invitationJSON is the invitation behind an invited membership: not a
// Medplum field, since Medplum makes the membership at once.
type invitationJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	// URL is the one-time invite link: only its hash is kept.
	URL     string `json:"url"`
	Expires string `json:"expires"`
	// Emailed says the link is queued to be mailed to the address.
	Emailed bool `json:"emailed"`
	// Reissued says an open invitation to the address was replaced: its
	// link no longer works.
	Reissued bool `json:"reissued"`
}

type clientJSON struct {
	ResourceType        string     `json:"resourceType"`
	ID                  string     `json:"id"`
	Meta                *metaJSON  `json:"meta,omitempty"`
	Name                string     `json:"name"`
	Description         string     `json:"description,omitempty"`
	RedirectURIs        []string   `json:"redirectUris,omitempty"`
	AccessPolicy        *reference `json:"accessPolicy,omitempty"`
	AccessTokenLifetime string     `json:"accessTokenLifetime"`
	Status              string     `json:"status"`
	Secret              string     `json:"secret"`
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func policyRef(id *string) *reference {
	if id == nil {
		return nil
	}
	return &reference{Reference: "AccessPolicy/" + *id}
}

func projectJSON(sc models.Scope) adminProject {
	p := sc.Project()
	out := adminProject{ResourceType: "Project", ID: p.ID, Name: p.Name, Description: p.Description,
		Meta: metaJSON{VersionID: strconv.Itoa(p.Version), LastUpdated: stamp(p.UpdatedAt)}, StrictMode: p.StrictMode,
		CheckReferencesOnWrite: p.CheckReferencesOnWrite, SuperAdmin: p.SuperAdmin, Features: p.Features,
		DefaultPatientAccessPolicy: policyRef(p.DefaultPatientAccessPolicy)}
	if p.OwnerID != nil {
		out.Owner = &reference{Reference: "User/" + *p.OwnerID}
	}
	return out
}

func memberJSON(sc models.Scope, m members.Member) membershipJSON {
	ms := m.Membership
	active := ms.Active
	out := membershipJSON{ResourceType: "ProjectMembership", ID: ms.ID,
		Meta: &metaJSON{Project: ms.ProjectID, LastUpdated: stamp(ms.UpdatedAt)}, Project: projectRef(sc.Access()),
		User: &reference{Reference: "User/" + ms.UserID, Display: m.User.Email}, Admin: ms.Admin, Active: &active,
		AccessPolicy: policyRef(ms.AccessPolicyID)}
	if ms.ProfileID != nil {
		out.Profile = &reference{Reference: ms.ProfileType + "/" + *ms.ProfileID, Display: m.User.Name()}
	}
	if ms.InvitedBy != nil {
		out.InvitedBy = &reference{Reference: "User/" + *ms.InvitedBy, Display: m.Inviter.Email}
	}
	return out
}

// The bodies the admin API reads. Fields Enclave does not know are ignored,
// as Medplum's server ignores them; fields it knows but cannot honour are
// refused, naming the field, rather than dropped.

// membershipBody is a ProjectMembership sent back to be saved.
type membershipBody struct {
	ResourceType string     `json:"resourceType"`
	ID           string     `json:"id"`
	Project      *reference `json:"project"`
	User         *reference `json:"user"`
	Profile      *reference `json:"profile"`
	Admin        *bool      `json:"admin"`
	Active       *bool      `json:"active"`
	AccessPolicy *reference `json:"accessPolicy"`
	Access       []any      `json:"access"`
}

// update checks the body against m, the membership the path names, and
// returns the change it asks for.
func (b membershipBody) update(sc models.Scope, m members.Member) (members.MemberUpdate, error) {
	v := &kit.ValidationError{}
	if b.ResourceType != "ProjectMembership" {
		v.Add("resourceType", `resourceType must be "ProjectMembership"`)
	}
	if b.ID != m.Membership.ID {
		v.Add("id", "id must be the id of the membership the path names")
	}
	cur := memberJSON(sc, m)
	readOnly := func(field string, sent, stored *reference) {
		if sent != nil && (stored == nil || sent.Reference != stored.Reference) {
			v.Add(field, field+" cannot be changed: it must be "+kit.Quote(refString(stored))+" or left out")
		}
	}
	readOnly("project", b.Project, &cur.Project)
	readOnly("user", b.User, cur.User)
	readOnly("profile", b.Profile, cur.Profile)
	if len(b.Access) > 0 {
		v.Add("access", unsupportedAccess)
	}
	u := members.MemberUpdate{Admin: b.Admin != nil && *b.Admin, Active: b.Active == nil || *b.Active}
	u.AccessPolicyID = policyID(v, "accessPolicy", b.AccessPolicy)
	return u, v.Err()
}

func refString(r *reference) string {
	if r == nil {
		return ""
	}
	return r.Reference
}

const unsupportedAccess = "Parameterised access policies (access) are not supported: name one policy in accessPolicy"

// policyID reads an accessPolicy reference ("AccessPolicy/<id>"); nil when
// none is sent. Whether the project has that policy is the store's check.
func policyID(v *kit.ValidationError, field string, r *reference) *string {
	if r == nil || r.Reference == "" {
		return nil
	}
	id, ok := r.id("AccessPolicy")
	if !ok {
		v.Add(field, field+` must be a reference such as {"reference": "AccessPolicy/<id>"}`)
		return nil
	}
	return &id
}

// inviteBody is Medplum's InviteRequest. accessPolicy, access and admin
// may come at the top level (deprecated, but Medplum's app still sends
// them) or inside membership, which wins.
type inviteBody struct {
	ResourceType string `json:"resourceType"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	Email        string `json:"email"`
	SendEmail    *bool  `json:"sendEmail"`
	Membership   *struct {
		Admin        *bool      `json:"admin"`
		AccessPolicy *reference `json:"accessPolicy"`
		Access       []any      `json:"access"`
		Profile      *reference `json:"profile"`
	} `json:"membership"`
	Admin        *bool      `json:"admin"`
	AccessPolicy *reference `json:"accessPolicy"`
	Access       []any      `json:"access"`

	// Medplum's options that Enclave cannot honour: an invitation goes to
	// a verified email address, whose owner signs in with their own
	// password and becomes a member with a Practitioner profile.
	ExternalID         string `json:"externalId"`
	Password           string `json:"password"`
	Scope              string `json:"scope"`
	Upsert             bool   `json:"upsert"`
	ForceNewMembership bool   `json:"forceNewMembership"`
	MFARequired        bool   `json:"mfaRequired"`
}

// input checks the body and returns the invitation it asks for.
func (b inviteBody) input() (members.InviteInput, error) {
	v := &kit.ValidationError{}
	if b.ResourceType != "" && b.ResourceType != "Practitioner" {
		v.Add("resourceType", "Only Practitioner invitations are supported: a member's profile is a Practitioner, made when they accept")
	}
	unsupported := map[string]bool{"externalId": b.ExternalID != "", "password": b.Password != "",
		"scope": b.Scope != "" && b.Scope != "server", "upsert": b.Upsert, "forceNewMembership": b.ForceNewMembership,
		"mfaRequired": b.MFARequired}
	for field, set := range unsupported {
		if set {
			v.Add(field, field+" is not supported: an invitation goes to a verified email address, whose owner accepts it with their own account")
		}
	}
	in := members.InviteInput{Email: b.Email, Admin: b.Admin != nil && *b.Admin}
	in.AccessPolicyID = policyID(v, "accessPolicy", b.AccessPolicy)
	access := len(b.Access) > 0
	if m := b.Membership; m != nil {
		if m.Admin != nil {
			in.Admin = *m.Admin
		}
		if m.AccessPolicy != nil {
			in.AccessPolicyID = policyID(v, "membership.accessPolicy", m.AccessPolicy)
		}
		if m.Profile != nil {
			v.Add("membership.profile", "membership.profile is not supported: the member's Practitioner profile is made when they accept")
		}
		access = access || len(m.Access) > 0
	}
	if access {
		v.Add("access", unsupportedAccess)
	}
	return in, v.Err()
}

// clientBody is Medplum's request for a new ClientApplication.
type clientBody struct {
	Name         string     `json:"name"`
	Description  string     `json:"description"`
	RedirectURI  string     `json:"redirectUri"`
	RedirectURIs []string   `json:"redirectUris"`
	AccessPolicy *reference `json:"accessPolicy"`
	// AccessTokenLifetime is a duration such as "1h" or "30m".
	AccessTokenLifetime string `json:"accessTokenLifetime"`
	IdentityProvider    any    `json:"identityProvider"`
}

func (b clientBody) input() (clients.Input, error) {
	v := &kit.ValidationError{}
	in := clients.Input{Name: b.Name, Description: b.Description, RedirectURIs: b.RedirectURIs,
		AccessPolicyID: kit.Deref(policyID(v, "accessPolicy", b.AccessPolicy))}
	if b.RedirectURI != "" {
		in.RedirectURIs = append([]string{b.RedirectURI}, in.RedirectURIs...)
	}
	if b.AccessTokenLifetime != "" {
		d, err := time.ParseDuration(b.AccessTokenLifetime)
		if err != nil || d <= 0 {
			v.Add("accessTokenLifetime", `accessTokenLifetime must be a duration such as "1h" or "30m"`)
		}
		in.TokenLifetime = d
	}
	if b.IdentityProvider != nil {
		v.Add("identityProvider", "identityProvider is not supported: clients sign in with their id and secret")
	}
	return in, v.Err()
}

// renameFields renames the fields of a validation error from the store's
// names to the API's; other errors pass as they are.
func renameFields(err error, names map[string]string) error {
	var v *kit.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	out := &kit.ValidationError{}
	for field, msg := range v.Fields {
		if name, ok := names[field]; ok {
			field = name
		}
		out.Add(field, msg)
	}
	return out
}

// readAdminJSON decodes the request's JSON body, one object, into v, a pointer to
// a struct. Malformed JSON is a 400; a value of the wrong type is a
// validation error on its field; so is a NUL character, which no text
// column can hold.
func readAdminJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err // adminBodyLimit's 413, or a broken connection
	}
	return decodeObject(body, v)
}

// decodeObject reads a JSON object into v, as the admin API and the
// /auth endpoints take their bodies: not an object, a NUL character or a
// syntax error is a 400; a field of the wrong JSON type is a validation
// error naming that field.
func decodeObject(body []byte, v any) error {
	var raw any
	if err := json.Unmarshal(body, &raw); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The body is not valid JSON: "+kit.JSONProblem(err))
	}
	if _, ok := raw.(map[string]any); !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "The body must be a JSON object")
	}
	if kit.HasNUL(raw) {
		return echo.NewHTTPError(http.StatusBadRequest, "The body contains a NUL character (\\u0000), which Enclave cannot store")
	}
	var te *json.UnmarshalTypeError
	if err := json.Unmarshal(body, v); errors.As(err, &te) {
		return &kit.ValidationError{Fields: map[string]string{te.Field: fmt.Sprintf("%s must be %s", te.Field, jsonKind(te.Type))}}
	} else if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The body could not be read: "+kit.JSONProblem(err))
	}
	return nil
}

// jsonKind names the JSON value a Go type is read from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a number"
}
