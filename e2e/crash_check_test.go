package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// settleTime is how long the counts at the portal and on the phone must
// stay unchanged before the crash test compares them: operator messages the
// app stored without confirming may still be on their way.
const settleTime = 2 * time.Second

var markerPattern = regexp.MustCompile(`out-\d{4}`)

// observed is what reached the portal and the customers' phones.
type observed struct {
	received []b24fake.ReceivedMessage
	phone    []simulator.OutboundMessage
	statuses []b24fake.StatusUpdate
}

func (tr *traffic) observe() observed {
	return observed{
		received: tr.f.fake.ReceivedMessages(),
		phone:    tr.f.a.outbound(shopPhone),
		statuses: tr.f.fake.DeliveryStatuses(),
	}
}

// missing describes the sent messages not yet delivered: customer messages
// not at the portal, confirmed operator messages not on the phone or
// without a delivery status.
func (tr *traffic) missing(o observed) []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	atPortal := map[string]bool{}
	for _, m := range o.received {
		atPortal[m.ExternalID] = atPortal[m.ExternalID] || m.Success
	}
	onPhone := map[string]bool{}
	for _, m := range o.phone {
		onPhone[markerPattern.FindString(m.Text)] = true
	}
	confirmed := map[int]bool{}
	for _, s := range o.statuses {
		confirmed[s.IMMessageID] = true
	}
	var out []string
	for _, m := range tr.inbound {
		if !atPortal[m.id] {
			out = append(out, "customer message "+m.id)
		}
	}
	for _, m := range tr.outbound {
		if m.confirmed && !onPhone[m.marker] {
			out = append(out, "operator message "+m.marker)
		}
		if m.confirmed && !confirmed[m.imMessageID] {
			out = append(out, "delivery status of "+m.marker)
		}
	}
	return out
}

// drain waits until every sent message is delivered and the counts settle.
func (tr *traffic) drain(timeout time.Duration) {
	t := tr.f.t
	tr.checkErrors()
	deadline := time.Now().Add(timeout)
	for {
		left := tr.missing(tr.observe())
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s of a clean run %d messages are still not delivered: %s",
				timeout, len(left), strings.Join(left[:min(len(left), 20)], ", "))
		}
		time.Sleep(100 * time.Millisecond)
	}
	last, since := "", time.Now()
	for time.Since(since) < settleTime {
		o := tr.observe()
		counts := fmt.Sprint(len(o.received), len(o.phone), len(o.statuses))
		if counts != last {
			last, since = counts, time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// crashResult holds the figures of a crash test run.
type crashResult struct {
	kills, runs           int
	elapsed               time.Duration
	inbound, inboundTries int
	inboundDuplicates     int
	outbound, confirmed   int
	unconfirmedArrived    int
	outboundResends       int
	statusDuplicates      int
	failedDeliveries      int64
}

func (r crashResult) String() string {
	return fmt.Sprintf("crash test: %d kills, %d runs of the binary, %s; customer messages %d (calls %d), "+
		"duplicates at the portal %d; operator messages %d (confirmed %d, unconfirmed that arrived %d), "+
		"WhatsApp resends with the same id %d, repeated delivery statuses %d; failed deliveries %d",
		r.kills, r.runs, r.elapsed, r.inbound, r.inboundTries, r.inboundDuplicates, r.outbound, r.confirmed,
		r.unconfirmedArrived, r.outboundResends, r.statusDuplicates, r.failedDeliveries)
}

// check compares what was sent with what arrived and returns the figures.
func (tr *traffic) check() crashResult {
	o := tr.observe()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var res crashResult
	tr.checkInbound(o, &res)
	tr.checkOutbound(o, &res)
	return res
}

// checkInbound requires every customer message at the portal at least
// once, copies only under the same message.id, and each chat in send order.
func (tr *traffic) checkInbound(o observed, res *crashResult) {
	t := tr.f.t
	sent := map[string]sentInbound{}
	for _, m := range tr.inbound {
		sent[m.id] = m
		res.inboundTries += m.tries
	}
	res.inbound = len(tr.inbound)
	copies := map[string]int{}
	firsts := map[string][]string{} // customer → ids in the order the portal first got them
	for _, r := range o.received {
		m, ok := sent[r.ExternalID]
		switch {
		case !ok:
			t.Errorf("the portal got message.id %s that no customer sent", r.ExternalID)
			continue
		case !r.Success:
			t.Errorf("the portal rejected customer message %s: %s", r.ExternalID, r.ErrorCode)
			continue
		case r.Message["text"] != m.text:
			t.Errorf("customer message %s arrived as %q, want %q", r.ExternalID, r.Message["text"], m.text)
		case fmt.Sprint(r.Chat["id"]) != tr.chats[m.customer]:
			t.Errorf("customer message %s arrived in chat %v, want %s", r.ExternalID, r.Chat["id"], tr.chats[m.customer])
		}
		if copies[r.ExternalID] == 0 {
			firsts[m.customer] = append(firsts[m.customer], r.ExternalID)
		}
		copies[r.ExternalID]++
	}
	for _, m := range tr.inbound {
		switch n := copies[m.id]; {
		case n == 0:
			t.Errorf("customer message %s (%s) was lost", m.id, m.text)
		case n > 1:
			res.inboundDuplicates += n - 1
		}
	}
	for _, c := range crashCustomers {
		var want []string
		for _, m := range tr.inbound {
			if m.customer == c {
				want = append(want, m.id)
			}
		}
		if !slices.Equal(firsts[c], want) {
			t.Errorf("customer %s: the portal got %v, want the send order %v", c, firsts[c], want)
		}
	}
}

// checkOutbound requires every confirmed operator message on the phone
// under one WhatsApp id, each chat in send order, and a delivery status
// with that id for every message that arrived.
func (tr *traffic) checkOutbound(o observed, res *crashResult) {
	t := tr.f.t
	sent := map[string]int{} // marker → index in tr.outbound
	for i, m := range tr.outbound {
		sent[m.marker] = i
	}
	waIDs := map[string][]string{}
	order := map[string][]int{} // customer → send indexes in the order the phone got them
	for _, m := range o.phone {
		marker := markerPattern.FindString(m.Text)
		i, ok := sent[marker]
		if m.Kind != "text" || !ok {
			t.Errorf("the phone got %s message %q that no operator sent", m.Kind, m.Text)
			continue
		}
		if m.To != tr.outbound[i].customer {
			t.Errorf("operator message %s went to %s, want %s", marker, m.To, tr.outbound[i].customer)
		}
		if len(waIDs[marker]) == 0 {
			order[m.To] = append(order[m.To], i)
		}
		waIDs[marker] = append(waIDs[marker], m.ID)
		res.outboundResends += m.Attempts - 1
	}
	res.outbound = len(tr.outbound)
	for _, m := range tr.outbound {
		ids := waIDs[m.marker]
		if m.confirmed {
			res.confirmed++
		} else if len(ids) > 0 {
			res.unconfirmedArrived++
		}
		switch {
		case len(ids) == 0 && m.confirmed:
			t.Errorf("operator message %s was confirmed to the portal but never reached the phone", m.marker)
		case len(ids) > 1:
			t.Errorf("operator message %s reached the phone under %d WhatsApp ids %v; a resend must reuse the id", m.marker, len(ids), ids)
		case len(ids) == 1:
			tr.checkStatus(o, m, ids[0], res)
		}
	}
	for c, idx := range order {
		if !slices.IsSorted(idx) {
			t.Errorf("customer %s got operator messages in the order %v (send indexes), want ascending", c, idx)
		}
	}
}

// checkStatus requires imconnector.send.status.delivery for an operator
// message that reached the phone, naming its WhatsApp id.
func (tr *traffic) checkStatus(o observed, m sentOutbound, waID string, res *crashResult) {
	n := 0
	for _, s := range o.statuses {
		if s.IMMessageID != m.imMessageID {
			continue
		}
		n++
		if !slices.Equal(s.ExternalIDs, []string{waID}) {
			tr.f.t.Errorf("delivery status of %s names %v, want [%s]", m.marker, s.ExternalIDs, waID)
		}
	}
	if n == 0 {
		tr.f.t.Errorf("operator message %s reached the phone but the portal got no delivery status", m.marker)
	}
	res.statusDuplicates += max(0, n-1)
}

// countFailedDeliveries opens the stopped app's database and counts the
// deliveries given up for good.
func (f *flow) countFailedDeliveries() int64 {
	var n int64
	err := f.openDatabase().Model(&connector.Delivery{}).Where("state = ?", connector.DeliveryFailed).Count(&n).Error
	if err != nil {
		f.t.Errorf("count failed deliveries: %v", err)
	}
	return n
}
