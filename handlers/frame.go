package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/static"
)

// FrameTokenHeader is the request header in which iframe page scripts send
// the token that the placement POST handed them.
const FrameTokenHeader = "X-Frame-Token"

// frameTokenParam is the form or query field that carries the token in
// plain form posts and links, which cannot set headers.
const frameTokenParam = "t"

// frameUserKey is the echo.Context key of the *portal.FrameUser.
const frameUserKey = "frame_user"

// FrameTokenParser checks iframe tokens. portal.Authenticator implements it.
type FrameTokenParser interface {
	// ParseFrameToken checks the token's signature, purpose and expiry.
	ParseFrameToken(token string) (*portal.FrameUser, error)
	// CheckFramePortal rejects the user of a portal that is gone or
	// uninstalled the app.
	CheckFramePortal(ctx context.Context, user *portal.FrameUser) error
}

var _ FrameTokenParser = (*portal.Authenticator)(nil)

// requireFrame admits requests that carry a valid iframe token of an
// installed portal (see frameToken for where it is read). It puts the user
// in the context (see frameUser), lets the user's portal frame the response
// and responds in the user's language. An expired or forged token, or one of
// a portal that uninstalled the app, is a 401 with a message to reopen the
// page from Bitrix24.
func requireFrame(auth FrameTokenParser) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			user, err := auth.ParseFrameToken(frameToken(c.Request()))
			if err != nil {
				return err
			}
			if err := auth.CheckFramePortal(c.Request().Context(), user); err != nil {
				return err
			}
			c.Set(frameUserKey, user)
			setPageLang(c, static.Lang(user.Lang))
			if user.Origin != "" {
				allowFraming(c, user.Origin)
			}
			noStore(c)
			return next(c)
		}
	}
}

// frameToken returns the token of a request: the X-Frame-Token header, else
// the "t" field. GET and HEAD read "t" from the query, because an <img> or a
// link to a printable page cannot send headers, so those URLs may reach
// access logs. Other methods read "t" only from a form body, never from the
// query, so a state-changing request never carries the token in its URL.
func frameToken(req *http.Request) string {
	if token := req.Header.Get(FrameTokenHeader); token != "" {
		return token
	}
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return req.URL.Query().Get(frameTokenParam)
	}
	return req.PostFormValue(frameTokenParam)
}

// requireAdmin admits only portal administrators. It must run after
// requireFrame.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		user := frameUser(c)
		if user == nil {
			return portal.ErrFrameTokenInvalid
		}
		if !user.Admin {
			return portal.ErrFrameNotAdmin
		}
		return next(c)
	}
}

// frameUser returns the user requireFrame admitted, or nil outside it.
func frameUser(c echo.Context) *portal.FrameUser {
	user, _ := c.Get(frameUserKey).(*portal.FrameUser)
	return user
}
