package web

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"net/http"
	"time"

	"enclave/handlers"
	"enclave/models"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

const (
	sessionCookie = "enclave_session"
	sessionMaxAge = 7 * 24 * time.Hour
	keyUserID     = "user_id"
	// keyProject is the project the user last opened in the console; the
	// FHIR API uses it when a request does not name one.
	keyProject = "project_id"
)

// dbStore is a gorilla/sessions store that keeps session values in the
// database. The cookie holds only a random token, signed with the session
// key; deleting the row ends the session for good, on every server instance.
type dbStore struct {
	rows    models.Sessions
	codecs  []securecookie.Codec
	options sessions.Options
}

func newDBStore(rows models.Sessions, key []byte) *dbStore {
	codec := securecookie.New(key, nil)
	codec.MaxAge(int(sessionMaxAge / time.Second))
	return &dbStore{
		rows:   rows,
		codecs: []securecookie.Codec{codec},
		options: sessions.Options{Path: "/", MaxAge: int(sessionMaxAge / time.Second), HttpOnly: true,
			SameSite: http.SameSiteLaxMode},
	}
}

// Get returns the request's session, cached for the rest of the request.
func (s *dbStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie, or starts an empty one
// when the cookie is missing, forged, expired or revoked.
func (s *dbStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.options
	sess.Options = &opts
	sess.IsNew = true
	ck, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var token string
	if securecookie.DecodeMulti(name, ck.Value, &token, s.codecs...) != nil {
		return sess, nil
	}
	data, err := s.rows.Load(r.Context(), token)
	if errors.Is(err, models.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	if gob.NewDecoder(bytes.NewReader(data)).Decode(&sess.Values) != nil {
		return sess, nil
	}
	sess.ID = token
	sess.IsNew = false
	return sess, nil
}

// Save writes the session row and the cookie; a negative MaxAge deletes both.
func (s *dbStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.rows.Delete(r.Context(), sess.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	if sess.ID == "" {
		sess.ID = newToken()
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(sess.Values); err != nil {
		return err
	}
	var userID *string
	if id, ok := sess.Values[keyUserID].(string); ok {
		userID = &id
	}
	expires := time.Now().Add(time.Duration(sess.Options.MaxAge) * time.Second)
	if err := s.rows.Save(r.Context(), sess.ID, userID, buf.Bytes(), expires); err != nil {
		return err
	}
	encoded, err := securecookie.EncodeMulti(sess.Name(), sess.ID, s.codecs...)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, sess.Options))
	return nil
}

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionManager implements handlers.Sessions on top of dbStore.
type sessionManager struct {
	store  *dbStore
	secure bool
}

var _ handlers.Sessions = (*sessionManager)(nil)

func (m *sessionManager) session(c echo.Context) (*sessions.Session, error) {
	sess, err := m.store.Get(c.Request(), sessionCookie)
	if sess != nil {
		sess.Options.Secure = m.secure || c.Request().TLS != nil
	}
	return sess, err
}

// SignIn throws the old session away and starts a new one with a new id, so
// a session id planted before sign-in is worthless after it.
func (m *sessionManager) SignIn(c echo.Context, userID string) error {
	sess, err := m.session(c)
	if err != nil {
		return err
	}
	if sess.ID != "" {
		if err := m.store.rows.Delete(c.Request().Context(), sess.ID); err != nil {
			return err
		}
	}
	sess.ID = ""
	sess.Values = map[any]any{keyUserID: userID}
	return sess.Save(c.Request(), c.Response())
}

// SignOut deletes the session row and the cookie.
func (m *sessionManager) SignOut(c echo.Context) error {
	sess, err := m.session(c)
	if err != nil {
		return err
	}
	sess.Options.MaxAge = -1
	return sess.Save(c.Request(), c.Response())
}

// userID returns the user id of the request's session, if signed in.
func (m *sessionManager) userID(c echo.Context) (string, error) {
	sess, err := m.session(c)
	if err != nil {
		return "", err
	}
	id, _ := sess.Values[keyUserID].(string)
	return id, nil
}

// rememberProject records the project the user opened, saving the session
// only when it changes.
func (m *sessionManager) rememberProject(c echo.Context, projectID string) error {
	sess, err := m.session(c)
	if err != nil {
		return err
	}
	if sess.IsNew || sess.Values[keyProject] == projectID {
		return nil
	}
	sess.Values[keyProject] = projectID
	return sess.Save(c.Request(), c.Response())
}

// lastProject returns the project the user last opened in the console.
func (m *sessionManager) lastProject(c echo.Context) (string, error) {
	sess, err := m.session(c)
	if err != nil {
		return "", err
	}
	id, _ := sess.Values[keyProject].(string)
	return id, nil
}
