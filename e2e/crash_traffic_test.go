package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// crashCustomers are the customers writing during the crash test; each is
// its own chat, so order is checked per chat.
var crashCustomers = []string{"79120000001", "79120000002", "79120000003"}

// inboundRetryPause is the pause between two tries of a customer message
// while the app is down.
const inboundRetryPause = 50 * time.Millisecond

// sentInbound is a customer message whose /simulator/inbound call succeeded.
type sentInbound struct {
	id       string
	customer string
	text     string
	tries    int
}

// sentOutbound is an operator message the portal tried to deliver.
// confirmed means the app responded 200 to its event. An unconfirmed one
// may or may not have been stored before the app died.
type sentOutbound struct {
	marker      string
	customer    string
	imMessageID int
	confirmed   bool
}

// traffic drives customers and operators against the app during the crash
// test and keeps what was sent, in send order.
type traffic struct {
	f      *flow
	client *http.Client
	chats  map[string]string // customer phone → chat.id at the portal

	mu       sync.Mutex
	inSeq    int // numbers of customer messages handed out
	outSeq   int // numbers of operator messages handed out
	inbound  []sentInbound
	outbound []sentOutbound
	errs     []string
}

func newTraffic(f *flow) *traffic {
	return &traffic{f: f, client: newHTTPClient(), chats: map[string]string{}}
}

// batchPlan is one round of traffic and the crash that interrupts it, drawn
// from the seeded generator before anything runs.
type batchPlan struct {
	inbound   []plannedMessage
	outbound  []plannedMessage
	killAfter time.Duration
	downtime  time.Duration
	// slowCalls of send.messages and of send.status.delivery take effect at
	// the portal but respond slowDelay late, which widens the window in
	// which a crash falls between the portal's success and the app's commit.
	slowCalls int
	slowDelay time.Duration
	// afterConnect starts the round once the line is connected again, so
	// the crash falls amid WhatsApp sends; otherwise the round starts while
	// the line may still be reconnecting.
	afterConnect bool
}

type plannedMessage struct {
	customer string
	gap      time.Duration // pause before sending
}

func newBatchPlan(rng *rand.Rand) batchPlan {
	plan := batchPlan{
		killAfter:    time.Duration(50+rng.IntN(1200)) * time.Millisecond,
		downtime:     time.Duration(rng.IntN(300)) * time.Millisecond,
		slowCalls:    rng.IntN(4),
		slowDelay:    time.Duration(100+rng.IntN(300)) * time.Millisecond,
		afterConnect: rng.IntN(4) != 0,
	}
	draw := func() []plannedMessage {
		msgs := make([]plannedMessage, 3+rng.IntN(6))
		for i := range msgs {
			msgs[i] = plannedMessage{
				customer: crashCustomers[rng.IntN(len(crashCustomers))],
				gap:      time.Duration(5+rng.IntN(80)) * time.Millisecond,
			}
		}
		return msgs
	}
	plan.inbound, plan.outbound = draw(), draw()
	return plan
}

// batch is a running round of traffic.
type batch struct{ wg sync.WaitGroup }

func (b *batch) wait() { b.wg.Wait() }

// run sends a plan's messages from two goroutines, customers and
// operators, while the caller crashes and restarts the app.
func (tr *traffic) run(plan batchPlan) *batch {
	if plan.slowCalls > 0 {
		tr.f.fake.OnDelay("imconnector.send.messages", plan.slowCalls, plan.slowDelay)
		tr.f.fake.OnDelay("imconnector.send.status.delivery", plan.slowCalls, plan.slowDelay)
	}
	b := &batch{}
	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		for _, m := range plan.inbound {
			time.Sleep(m.gap)
			tr.sendInbound(m.customer)
		}
	}()
	go func() {
		defer b.wg.Done()
		for _, m := range plan.outbound {
			time.Sleep(m.gap)
			tr.sendOutbound(m.customer)
		}
	}()
	return b
}

// greet sends one message from every customer and waits until each reached
// the portal, which gives the chat.id the operators reply to.
func (tr *traffic) greet() {
	t := tr.f.t
	for _, c := range crashCustomers {
		tr.sendInbound(c)
	}
	waitFor(t, stepTimeout, "every customer's first message at the portal", func() bool {
		for _, m := range tr.f.fake.ReceivedMessages() {
			if c := tr.customerOf(m.ExternalID); c != "" && m.Success {
				tr.chats[c] = fmt.Sprint(m.Chat["id"])
			}
		}
		return len(tr.chats) == len(crashCustomers)
	})
	tr.checkErrors()
}

// sendInbound writes one customer message with an explicit id and repeats
// the call, with the same id, until the app responds 200, because a call
// that the crash cut off may or may not have reached the simulator.
func (tr *traffic) sendInbound(customer string) {
	tr.mu.Lock()
	tr.inSeq++
	n := tr.inSeq
	tr.mu.Unlock()
	msg := sentInbound{id: fmt.Sprintf("3AC0%016X", n), customer: customer, text: fmt.Sprintf("customer message in-%04d", n)}
	req := simulator.InboundMessage{To: shopPhone, From: customer, PushName: "Customer " + customer[len(customer)-1:],
		Text: msg.text, ID: msg.id}
	deadline := time.Now().Add(drainTimeout)
	for {
		msg.tries++
		status, err := tr.postInbound(req)
		if err == nil && status == http.StatusOK {
			break
		}
		if err == nil && status < http.StatusInternalServerError {
			tr.fail("customer message %s: /simulator/inbound returned status %d", msg.id, status)
			return
		}
		if time.Now().After(deadline) {
			tr.fail("customer message %s: no success within %s (last: status %d, %v)", msg.id, drainTimeout, status, err)
			return
		}
		time.Sleep(inboundRetryPause)
	}
	tr.mu.Lock()
	tr.inbound = append(tr.inbound, msg)
	tr.mu.Unlock()
}

func (tr *traffic) postInbound(msg simulator.InboundMessage) (int, error) {
	raw, _ := json.Marshal(msg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tr.f.a.base+"/simulator/inbound", bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := tr.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode, nil
}

// sendOutbound sends one operator reply to a customer. Bitrix24 never
// repeats an event, so a POST that did not get 200 is not retried.
func (tr *traffic) sendOutbound(customer string) {
	tr.mu.Lock()
	tr.outSeq++
	n := tr.outSeq
	tr.mu.Unlock()
	msg := sentOutbound{marker: fmt.Sprintf("out-%04d", n), customer: customer}
	sent, err := tr.f.fake.OperatorSends(context.Background(), b24fake.OperatorMessage{
		Line: openLine, ChatID: tr.chats[customer], Text: "operator reply " + msg.marker})
	if err != nil {
		tr.fail("operator message %s: %v", msg.marker, err)
		return
	}
	msg.imMessageID = sent.IMMessageID
	msg.confirmed = len(sent.Deliveries) == 1 && sent.Deliveries[0].Err == nil && sent.Deliveries[0].Status == http.StatusOK
	tr.mu.Lock()
	tr.outbound = append(tr.outbound, msg)
	tr.mu.Unlock()
}

// waitConnected waits until the business number's device is connected and
// logged in again.
func (tr *traffic) waitConnected() {
	waitFor(tr.f.t, stepTimeout, "the line to reconnect", func() bool {
		for _, d := range tr.f.a.simulatorState().Devices {
			if d.Phone == shopPhone && d.LoggedIn {
				return true
			}
		}
		return false
	})
}

// counts returns how many messages each side has sent so far.
func (tr *traffic) counts() (inbound, outbound int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.inbound), len(tr.outbound)
}

// customerOf returns the customer who sent the message id, or "".
func (tr *traffic) customerOf(id string) string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, m := range tr.inbound {
		if m.id == id {
			return m.customer
		}
	}
	return ""
}

func (tr *traffic) fail(format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.errs = append(tr.errs, fmt.Sprintf(format, args...))
}

// checkErrors fails the test with the errors of the traffic goroutines.
func (tr *traffic) checkErrors() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, e := range tr.errs {
		tr.f.t.Error(e)
	}
	if len(tr.errs) > 0 {
		tr.f.t.FailNow()
	}
}
