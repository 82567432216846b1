package handlers

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/static"
)

// contactCenterPath is Contact Center in a Bitrix24 portal, where the
// connector tile opens each line's settings.
const contactCenterPath = "/contact_center/"

// appPage is the view model of app.html, the app's main page.
type appPage struct {
	Lang              string
	Title             string
	NoIndex           bool
	PortalDomain      string
	PortalName        string
	Problems          []problemView
	Lines             []appLineRow
	ContactCenterURL  string
	ContactCenterPath string
	BX24Script        string
}

// problemView is a portal-level problem the owner must act on.
type problemView struct {
	Key   string
	Level string
	Title string
	Text  string
}

type appLineRow struct {
	LineID   string
	Name     string
	Phone    string
	PushName string
	State    stateView
	Billing  *bannerView
}

// appPage handles the main page POST (PLACEMENT=DEFAULT): the portal's
// lines with their states, and problems of the whole portal.
func (h *settings) appPage(c echo.Context) error {
	ctx := c.Request().Context()
	req, user, err := h.authenticate(c)
	if err != nil {
		return err
	}
	if req.Placement != "" && req.Placement != portal.PlacementDefault {
		return fmt.Errorf("%w: PLACEMENT is %q, expected DEFAULT", errWrongPlacement, req.Placement)
	}
	p, err := h.deps.Portals.ByID(ctx, user.PortalID)
	if err != nil {
		return err
	}

	lang := static.Lang(user.Lang)
	rows, err := h.appLines(ctx, lang, p.ID)
	if err != nil {
		return err
	}
	problems, err := h.portalProblems(ctx, lang, p)
	if err != nil {
		return err
	}
	page := appPage{
		Lang:              lang,
		Title:             h.pages.T(lang, "app.name"),
		PortalDomain:      p.Domain,
		PortalName:        p.Name,
		Problems:          problems,
		Lines:             rows,
		ContactCenterURL:  p.Origin() + contactCenterPath,
		ContactCenterPath: contactCenterPath,
		BX24Script:        h.deps.bx24Script(),
	}
	return h.pages.Render(c, http.StatusOK, "app.html", page)
}

func (h *settings) appLines(ctx context.Context, lang string, portalID uint64) ([]appLineRow, error) {
	lines, err := h.deps.Lines.ListByPortal(ctx, portalID)
	if err != nil {
		return nil, err
	}
	rows := make([]appLineRow, 0, len(lines))
	for i := range lines {
		line := &lines[i]
		row := appLineRow{
			LineID:   line.LineID,
			Name:     lineName(h.pages, lang, line),
			Phone:    FormatPhone(line.Phone),
			PushName: line.PushName,
			State:    newStateView(h.pages, lang, line),
		}
		if row.Billing, err = h.lineBilling(ctx, lang, line); err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// portalProblems lists what stops the app from working for the whole
// portal: authorization that Bitrix24 no longer accepts, and a lapsed
// marketplace subscription, after which Bitrix24 stops sending events.
func (h *settings) portalProblems(ctx context.Context, lang string, p *portal.Portal) ([]problemView, error) {
	var out []problemView
	add := func(key, level string) {
		out = append(out, problemView{Key: key, Level: level,
			Title: h.pages.T(lang, "pages.problem."+key+".title"), Text: h.pages.T(lang, "pages.problem."+key+".text")})
	}
	if p.State == portal.StateAttention {
		switch p.AttentionReason {
		case portal.AttentionInvalidGrant, portal.AttentionInvalidClient:
			add("tokens", "error")
		case portal.AttentionOverload:
			add("overload", "warning")
		case portal.AttentionPaymentRequired:
			// Reported below as the licence problem.
		default:
			add("attention", "error")
		}
	}

	licence, err := h.licenceProblem(ctx, lang, p)
	if err != nil || licence == nil {
		return out, err
	}
	return append(out, *licence), nil
}

// licenceProblem uses billing's licence banner when billing is wired, and
// the portal row's licence fields otherwise.
func (h *settings) licenceProblem(ctx context.Context, lang string, p *portal.Portal) (*problemView, error) {
	title := h.pages.T(lang, "pages.problem.licence.title")
	if h.deps.Billing != nil {
		view, err := h.deps.Billing.ViewPortal(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		if view.Licence.Key == "" {
			return nil, nil
		}
		text := h.pages.T(lang, view.Licence.Key, view.Licence.Args...)
		return &problemView{Key: "licence", Level: "error", Title: title, Text: text}, nil
	}
	paymentRequired := p.State == portal.StateAttention && p.AttentionReason == portal.AttentionPaymentRequired
	if !p.LicencePaymentExpired && !paymentRequired {
		return nil, nil
	}
	return &problemView{Key: "licence", Level: "error", Title: title, Text: h.pages.T(lang, "pages.problem.licence.text")}, nil
}
