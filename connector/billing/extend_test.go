package billing

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestExtendLine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clock := newTestClock()
		s := newTestService(t, db, nil, nil, testOptions(clock.Now))
		p := mustPortal(t, db)
		l := mustLine(t, db, p, "Sales", testStart)

		sum, err := s.ExtendLine(ctx, l.ID, Extend{Months: 1})
		if err != nil {
			t.Fatal(err)
		}
		wantTime(t, "paid_until after one month", sum.PaidUntil, testStart.AddDate(0, 1, 7))
		if sum.State != StatePaid || sum.PortalDomain != p.Domain {
			t.Errorf("summary = %+v, want state paid and the portal's domain", sum)
		}

		until := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
		sum, err = s.ExtendLine(ctx, l.ID, Extend{Until: until})
		if err != nil {
			t.Fatal(err)
		}
		wantTime(t, "paid_until after until", sum.PaidUntil, until)

		var extensions []Extension
		db.Where("line_id = ?", l.ID).Order("id").Find(&extensions)
		if len(extensions) != 2 || extensions[1].Source != SourceOperator || extensions[1].PaidUntilBefore == nil {
			t.Fatalf("extensions = %+v, want two operator rows with the previous paid_until", extensions)
		}
		wantTime(t, "recorded previous paid_until", extensions[1].PaidUntilBefore, testStart.AddDate(0, 1, 7))
	})
}

func TestExtendLineRejectsBadRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := newTestService(t, db, nil, nil, testOptions(newTestClock().Now))
		l := mustLine(t, db, mustPortal(t, db), "Sales", testStart)
		cases := []struct {
			name string
			id   uint64
			req  Extend
			want error
		}{
			{"neither", l.ID, Extend{}, ErrInvalidExtension},
			{"both", l.ID, Extend{Months: 1, Until: testStart}, ErrInvalidExtension},
			{"negative months", l.ID, Extend{Months: -1}, ErrInvalidMonths},
			{"too many months", l.ID, Extend{Months: 37}, ErrInvalidMonths},
			{"unknown line", 424242, Extend{Months: 1}, ErrLineNotFound},
		}
		for _, tc := range cases {
			if _, err := s.ExtendLine(ctx, tc.id, tc.req); !errors.Is(err, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
			}
		}
		if row := mustRow(t, s, l.ID); row.PaidUntil != nil {
			t.Errorf("rejected extensions set paid_until to %s", row.PaidUntil)
		}
	})
}

func TestPaymentOfSuspendedLineNeedsScan(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clock := newTestClock()
		s := newTestService(t, db, nil, nil, testOptions(clock.Now))
		p := mustPortal(t, db)
		l := mustLine(t, db, p, "Sales", testStart.AddDate(0, 0, -20))
		suspendedAt := testStart.AddDate(0, 0, -10)
		err := db.Model(&connector.Line{}).Where("id = ?", l.ID).Updates(map[string]any{
			"state": connector.StateSuspended, "suspended_at": suspendedAt,
			"paid_until": testStart.AddDate(0, 0, -13), "billing_state": StateSuspended,
		}).Error
		if err != nil {
			t.Fatal(err)
		}

		sum, err := s.ExtendLine(ctx, l.ID, Extend{Months: 1})
		if err != nil {
			t.Fatal(err)
		}
		wantTime(t, "paid_until", sum.PaidUntil, testStart.AddDate(0, 1, 0))
		if sum.State != StateNeedsScan || sum.LineState != connector.StateNeedsScan {
			t.Errorf("billing state %s, line state %s; want needs_scan for both", sum.State, sum.LineState)
		}
		if sum.SuspendedAt != nil {
			t.Errorf("suspended_at = %s, want it cleared so a later lapse suspends again", sum.SuspendedAt)
		}
	})
}
