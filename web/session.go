package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"net"
	"net/http"
	"time"

	"enclave/handlers"
	"enclave/models/accounts"
	"enclave/models/kit"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

const (
	sessionCookie = "enclave_session"
	sessionMaxAge = 7 * 24 * time.Hour
	keyUserID     = "user_id"
)

// dbStore is a gorilla/sessions store that keeps session values in the
// database. The cookie holds only a random token, signed with the session
// key; deleting the row ends the session for good, on every server instance.
type dbStore struct {
	rows    accounts.Sessions
	codecs  []securecookie.Codec
	options sessions.Options
}

func newDBStore(rows accounts.Sessions, key []byte) *dbStore {
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

// token returns the session token of the request's cookie, if it carries a
// genuine one.
func (s *dbStore) token(r *http.Request, name string) (token string, ok bool) {
	ck, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	if securecookie.DecodeMulti(name, ck.Value, &token, s.codecs...) != nil {
		return "", false
	}
	return token, true
}

// resolvedKey is the request context key of the session that the caller's
// resolution already loaded (a resolvedSession).
type resolvedKey struct{}

// resolvedSession is the session row as the caller's resolution found it
// for the request's cookie: found is false when it has no live session.
type resolvedSession struct {
	token string
	data  []byte
	found bool
}

// metaKey is the request context key of the request's accounts.SessionMeta.
type metaKey struct{}

// withSessionMeta records where the request comes from, for the session
// rows it saves.
func withSessionMeta(r *http.Request, m accounts.SessionMeta) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), metaKey{}, m))
}

// sessionMetaOf is the request's SessionMeta: as loadCaller recorded it, or
// the connection's own address.
func sessionMetaOf(r *http.Request) accounts.SessionMeta {
	if m, ok := r.Context().Value(metaKey{}).(accounts.SessionMeta); ok {
		return m
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return accounts.SessionMeta{IP: ip, UserAgent: r.UserAgent()}
}

// withResolvedSession hands the session data that loadCaller resolved to
// the store, so that loading the session costs no query of its own.
func withResolvedSession(r *http.Request, rs resolvedSession) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), resolvedKey{}, rs))
}

// New loads the session named by the request's cookie, or starts an empty one
// when the cookie is missing, forged, expired or revoked. When the caller's
// resolution already read the session row, its data is used as is.
func (s *dbStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.options
	sess.Options = &opts
	sess.IsNew = true
	var token string
	var data []byte
	if rs, ok := r.Context().Value(resolvedKey{}).(resolvedSession); ok && name == sessionCookie {
		if !rs.found {
			return sess, nil
		}
		token, data = rs.token, rs.data
	} else {
		var ok bool
		if token, ok = s.token(r, name); !ok {
			return sess, nil
		}
		var err error
		data, err = s.rows.Load(r.Context(), token)
		if errors.Is(err, kit.ErrNotFound) {
			return sess, nil
		}
		if err != nil {
			return sess, err
		}
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
	existing := sess.ID != ""
	if !existing {
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
	if existing {
		err := s.rows.Update(r.Context(), sess.ID, userID, buf.Bytes(), expires, sessionMetaOf(r))
		if errors.Is(err, kit.ErrNotFound) {
			// Ended while this request used it: it stays ended.
			gone := *sess.Options
			gone.MaxAge = -1
			http.SetCookie(w, sessions.NewCookie(sess.Name(), "", &gone))
			return nil
		}
		if err != nil {
			return err
		}
	} else if err := s.rows.Save(r.Context(), sess.ID, userID, buf.Bytes(), expires, sessionMetaOf(r)); err != nil {
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
		sess.Options.Secure = m.secure || c.Request().TLS != nil || isHTTPS(c)
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

// Token returns the token of the request's session, "" when it has none
// (or it cannot be loaded, which leaves nobody signed in either).
func (m *sessionManager) Token(c echo.Context) string {
	sess, err := m.session(c)
	if err != nil {
		return ""
	}
	return sess.ID
}
