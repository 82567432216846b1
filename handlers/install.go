package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/static"
)

// installPage is the view model of install.html and install_error.html.
type installPage struct {
	Lang       string
	Title      string
	Domain     string
	BX24Script string
	// Finished makes install.js call BX24.installFinish. It is set only
	// after the connector is registered and every event is bound.
	Finished bool
	// StepKey and HintKey explain a failure: which step failed and what to do.
	StepKey   string
	HintKey   string
	RequestID string
}

// install handles POST /install: the installer page of the app card, or an
// event (ONAPPINSTALL) when the app card sends its install callback here.
func (h *portalHandlers) install(c echo.Context) error {
	lang := static.Lang(c.QueryParam("LANG"))
	setPageLang(c, lang)
	noStore(c)
	form, err := readForm(c, h.deps.MaxInstallBytes, h.deps.FormLimits)
	if err != nil {
		return h.installFailed(c, lang, c.QueryParam("DOMAIN"), &portal.InstallError{Step: portal.StepRequest, Err: err})
	}
	if form.Has("event") {
		ev, err := portal.DecodeEvent(form)
		if err != nil {
			return h.rejectEvent(c, nil, err)
		}
		return h.dispatch(c, ev)
	}

	req, err := portal.ParsePlacementRequest(c.QueryParams(), form)
	if err != nil {
		return h.installFailed(c, lang, req.Domain, &portal.InstallError{Step: portal.StepRequest, Err: err})
	}
	lang = static.Lang(req.Lang)
	setPageLang(c, lang)
	p, err := h.deps.Installer.InstallFromPage(c.Request().Context(), req.InstallRequest())
	if err != nil {
		return h.installFailed(c, lang, req.Domain, err)
	}

	allowFraming(c, p.Origin())
	page := installPage{Lang: lang, Title: h.deps.Pages.T(lang, "install.done.heading"), Domain: p.Domain,
		BX24Script: h.bx24Script(), Finished: true}
	return h.deps.Pages.Render(c, http.StatusOK, "install.html", page)
}

// installFailed renders the localized error page of a failed install, which
// names the failed step and never calls BX24.installFinish.
func (h *portalHandlers) installFailed(c echo.Context, lang, domain string, err error) error {
	step := portal.InstallStep(err)
	if step == "" {
		step = portal.StepSave
	}
	status := installStatus(step, err)
	attrs := []any{"step", step, "domain", domain, "status", status, "remote_ip", c.RealIP(), "error", err}
	if status >= http.StatusInternalServerError {
		h.deps.Log.ErrorContext(c.Request().Context(), "Install failed", attrs...)
	} else {
		h.deps.Log.WarnContext(c.Request().Context(), "Install rejected", attrs...)
	}

	if origin := hostOrigin(domain); origin != "" {
		allowFraming(c, origin)
	}
	page := installPage{
		Lang:      lang,
		Title:     h.deps.Pages.T(lang, "install.failed.heading"),
		Domain:    domain,
		StepKey:   "install.failed.step." + step,
		HintKey:   installHintKey(step, err),
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
	}
	return h.deps.Pages.Render(c, status, "install_error.html", page)
}

// installStatus is the HTTP status of a failed install step.
func installStatus(step string, err error) int {
	switch {
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errNotForm):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, portal.ErrOAuthUnavailable):
		return http.StatusServiceUnavailable
	case step == portal.StepRequest:
		return http.StatusBadRequest
	case step == portal.StepVerify:
		return http.StatusForbidden
	case step == portal.StepRegister || step == portal.StepBind:
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// installHintKey is the translation key of what the administrator can do.
func installHintKey(step string, err error) string {
	switch {
	case errors.Is(err, portal.ErrInvalidEndpoint):
		return "install.failed.hint.invalid_domain"
	case errors.Is(err, context.DeadlineExceeded):
		return "install.failed.hint.timeout"
	case errors.Is(err, portal.ErrOAuthUnavailable):
		return "install.failed.hint.retry"
	case step == portal.StepRequest:
		return "install.failed.hint.request"
	case step == portal.StepVerify:
		return "install.failed.hint.verify"
	case step == portal.StepRegister || step == portal.StepBind:
		return "install.failed.hint.portal"
	}
	return "install.failed.hint.retry"
}

// hostOrigin returns https://<domain> when domain is a plain host name with
// an optional port, else "". It only widens frame-ancestors for an error page.
func hostOrigin(domain string) string {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if domain == "" || len(domain) > 253 {
		return ""
	}
	for _, r := range domain {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':') {
			return ""
		}
	}
	return "https://" + domain
}

// installInfo serves GET and HEAD /install, which browsers reach when
// someone opens the installer address directly.
func (h *portalHandlers) installInfo(c echo.Context) error {
	lang := requestLang(c)
	page := installPage{Lang: lang, Title: h.deps.Pages.T(lang, "install.info.heading")}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(http.StatusOK)
	}
	return h.deps.Pages.Render(c, http.StatusOK, "install_info.html", page)
}
