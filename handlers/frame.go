package handlers

import (
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
	ParseFrameToken(token string) (*portal.FrameUser, error)
}

var _ FrameTokenParser = (*portal.Authenticator)(nil)

// requireFrame admits requests that carry a valid iframe token in the
// X-Frame-Token header or the "t" form or query field. It puts the user in
// the context (see frameUser), lets the user's portal frame the response
// and answers in the user's language. An expired or forged token is a 401
// whose message asks to reopen the page from Bitrix24.
func requireFrame(auth FrameTokenParser) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token := c.Request().Header.Get(FrameTokenHeader)
			if token == "" {
				token = c.FormValue(frameTokenParam)
			}
			user, err := auth.ParseFrameToken(token)
			if err != nil {
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
