package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

// stateFormat is the version of the state file layout; Load rejects others.
const stateFormat = 1

// savedState is the state file: what WhatsApp's servers and the phones keep
// while the app is down. Sessions, running pairings and timers are not in
// it, because they end with the process as a connection does.
type savedState struct {
	Format       int                    `json:"format"`
	SavedAt      time.Time              `json:"saved_at"`
	DeviceSeq    map[string]uint16      `json:"device_seq"`
	Devices      []savedDevice          `json:"devices"`
	Media        map[string]string      `json:"media"` // direct path → file name in the media directory
	LIDToPN      map[string]string      `json:"lid_to_pn"`
	SendFailures map[string]SendFailure `json:"send_failures"`
	Outdated     bool                   `json:"outdated"`
	InboundIDs   []string               `json:"inbound_ids"` // keys of inboundKey
}

// savedDevice is a linked device with its offline queue and logs.
type savedDevice struct {
	JID       types.JID            `json:"jid"`
	LID       types.JID            `json:"lid"`
	Phone     string               `json:"phone"`
	PushName  string               `json:"push_name"`
	Platform  string               `json:"platform"`
	LinkedAt  time.Time            `json:"linked_at"`
	Unlinked  bool                 `json:"unlinked"`
	BanCode   events.TempBanReason `json:"ban_code"`
	BanUntil  time.Time            `json:"ban_until"`
	Queue     []savedEvent         `json:"queue"`
	Outbound  []savedOutbound      `json:"outbound"`
	ReadMarks []ReadMark           `json:"read_marks"`
	Known     map[string][]byte    `json:"known"` // message id → waE2E.Message in protobuf wire format
	FromMe    []string             `json:"from_me"`
}

// savedEvent is one queued event. Exactly one field is set.
type savedEvent struct {
	Message       *savedMessage                `json:"message,omitempty"`
	Receipt       *events.Receipt              `json:"receipt,omitempty"`
	Undecryptable *events.UndecryptableMessage `json:"undecryptable,omitempty"`
}

// savedMessage is an *events.Message as it was built: the raw message is
// unwrapped again on load.
type savedMessage struct {
	Info       types.MessageInfo `json:"info"`
	Raw        []byte            `json:"raw"`
	RetryCount int               `json:"retry_count"`
}

// savedOutbound is an OutboundMessage with its message in protobuf wire
// format, because OutboundMessage leaves the message out of its JSON.
type savedOutbound struct {
	OutboundMessage
	Raw []byte `json:"raw"`
}

// inboundKey identifies an inbound message by the business number it was
// written to and its id, for recognising a retried Inbound call.
func inboundKey(phone, id string) string { return phone + "/" + id }

// Load returns a simulator that keeps its durable state in opts.StatePath,
// starting from that file when it exists. It returns an error when the file
// or a media file it names cannot be read or is not a state file.
func Load(opts Options) (*Simulator, error) {
	if opts.StatePath == "" {
		return nil, fmt.Errorf("%w: Options.StatePath is empty", ErrInvalidRequest)
	}
	s := newSimulator(opts)
	if err := s.load(); err != nil {
		return nil, fmt.Errorf("load simulator state %s: %w", opts.StatePath, err)
	}
	return s, nil
}

// load replaces the empty state of a new simulator with the state file. A
// missing file is an empty state.
func (s *Simulator) load() error {
	removeTempFiles(s.opts.StatePath)
	raw, err := os.ReadFile(s.opts.StatePath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st savedState
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("parse state file: %w", err)
	}
	if st.Format != stateFormat {
		return fmt.Errorf("state file format %d is not supported; expected %d (delete the file to start empty)", st.Format, stateFormat)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.restoreMediaLocked(st.Media); err != nil {
		return err
	}
	for _, saved := range st.Devices {
		dev, err := restoreDevice(saved)
		if err != nil {
			return fmt.Errorf("device %s: %w", saved.JID, err)
		}
		s.devices[dev.jid] = dev
	}
	copyMap(s.deviceSeq, st.DeviceSeq)
	copyMap(s.lidToPN, st.LIDToPN)
	copyMap(s.sendFailures, st.SendFailures)
	s.outdated = st.Outdated
	for _, key := range st.InboundIDs {
		s.inboundIDs[key] = true
	}
	s.log.Info("Simulator state loaded", "file", s.opts.StatePath, "devices", len(s.devices), "media", len(s.media))
	return nil
}

func copyMap[V any](dst, src map[string]V) {
	for k, v := range src {
		dst[k] = v
	}
}

// saveLocked writes the durable state to StatePath, so a crash after it
// loses nothing that a control call or a send reported as done. Without
// StatePath it does nothing. The caller holds s.mu.
// NOTE: every save rewrites the whole file with an fsync, so its cost grows
// with the log of sent messages; that suits tests and tryouts, not load.
func (s *Simulator) saveLocked() error {
	if s.opts.StatePath == "" {
		return nil
	}
	if err := s.saveMediaLocked(); err != nil {
		return err
	}
	st, err := s.snapshotLocked()
	if err != nil {
		return err
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode simulator state: %w", err)
	}
	if err := writeFileAtomic(s.opts.StatePath, raw); err != nil {
		return fmt.Errorf("save simulator state: %w", err)
	}
	return nil
}

// persistLocked saves the state where the caller cannot return an error,
// logging a failure instead; change names what was being saved. The caller
// holds s.mu.
func (s *Simulator) persistLocked(change string) {
	if err := s.saveLocked(); err != nil {
		s.log.Error("Saving simulator state failed", "change", change, "file", s.opts.StatePath, "error", err)
	}
}

// snapshotLocked copies the durable state into its file form. The caller
// holds s.mu.
func (s *Simulator) snapshotLocked() (*savedState, error) {
	st := &savedState{
		Format: stateFormat, SavedAt: s.clock.Now(), DeviceSeq: s.deviceSeq, Media: s.mediaFiles,
		LIDToPN: s.lidToPN, SendFailures: s.sendFailures, Outdated: s.outdated,
		InboundIDs: make([]string, 0, len(s.inboundIDs)),
	}
	for key := range s.inboundIDs {
		st.InboundIDs = append(st.InboundIDs, key)
	}
	sort.Strings(st.InboundIDs)
	for _, dev := range s.devices {
		saved, err := snapshotDevice(dev)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", dev.jid, err)
		}
		st.Devices = append(st.Devices, saved)
	}
	sort.Slice(st.Devices, func(i, j int) bool { return st.Devices[i].JID.String() < st.Devices[j].JID.String() })
	return st, nil
}

func snapshotDevice(dev *device) (savedDevice, error) {
	saved := savedDevice{
		JID: dev.jid, LID: dev.lid, Phone: dev.phone, PushName: dev.pushName, Platform: dev.platform,
		LinkedAt: dev.linkedAt, Unlinked: dev.unlinked,
		BanCode: dev.banCode, BanUntil: dev.banUntil, ReadMarks: dev.readMarks,
		Known: make(map[string][]byte, len(dev.known)),
	}
	for _, q := range dev.queue {
		evt, err := snapshotEvent(q.evt)
		if err != nil {
			return saved, err
		}
		saved.Queue = append(saved.Queue, evt)
	}
	for _, out := range dev.outbound {
		raw, err := proto.Marshal(out.Message)
		if err != nil {
			return saved, fmt.Errorf("encode outbound message %s: %w", out.ID, err)
		}
		saved.Outbound = append(saved.Outbound, savedOutbound{OutboundMessage: *out, Raw: raw})
	}
	for id, msg := range dev.known {
		raw, err := proto.Marshal(msg)
		if err != nil {
			return saved, fmt.Errorf("encode message %s: %w", id, err)
		}
		saved.Known[id] = raw
	}
	for id := range dev.fromMe {
		saved.FromMe = append(saved.FromMe, id)
	}
	sort.Strings(saved.FromMe)
	return saved, nil
}

func snapshotEvent(evt any) (savedEvent, error) {
	switch e := evt.(type) {
	case *events.Message:
		raw, err := proto.Marshal(e.RawMessage)
		if err != nil {
			return savedEvent{}, fmt.Errorf("encode queued message %s: %w", e.Info.ID, err)
		}
		return savedEvent{Message: &savedMessage{Info: e.Info, Raw: raw, RetryCount: e.RetryCount}}, nil
	case *events.Receipt:
		return savedEvent{Receipt: e}, nil
	case *events.UndecryptableMessage:
		return savedEvent{Undecryptable: e}, nil
	default:
		return savedEvent{}, fmt.Errorf("queued event %T cannot be saved", evt)
	}
}

func restoreDevice(saved savedDevice) (*device, error) {
	dev := &device{
		jid: saved.JID, lid: saved.LID, phone: saved.Phone, pushName: saved.PushName, platform: saved.Platform,
		linkedAt: saved.LinkedAt, unlinked: saved.Unlinked,
		banCode: saved.BanCode, banUntil: saved.BanUntil, readMarks: saved.ReadMarks,
	}
	// Every queued event counts as not yet attempted, because connection
	// numbers start again in a new process.
	for _, evt := range saved.Queue {
		restored, err := restoreEvent(evt)
		if err != nil {
			return nil, err
		}
		dev.queue = append(dev.queue, &queued{evt: restored})
	}
	for _, out := range saved.Outbound {
		msg := &waE2E.Message{}
		if err := proto.Unmarshal(out.Raw, msg); err != nil {
			return nil, fmt.Errorf("decode outbound message %s: %w", out.ID, err)
		}
		restored := out.OutboundMessage
		restored.Message = msg
		dev.outbound = append(dev.outbound, &restored)
	}
	for id, raw := range saved.Known {
		msg := &waE2E.Message{}
		if err := proto.Unmarshal(raw, msg); err != nil {
			return nil, fmt.Errorf("decode message %s: %w", id, err)
		}
		dev.remember(id, msg)
	}
	for _, id := range saved.FromMe {
		dev.markFromMe(id)
	}
	return dev, nil
}

func restoreEvent(saved savedEvent) (any, error) {
	switch {
	case saved.Message != nil:
		raw := &waE2E.Message{}
		if err := proto.Unmarshal(saved.Message.Raw, raw); err != nil {
			return nil, fmt.Errorf("decode queued message %s: %w", saved.Message.Info.ID, err)
		}
		evt := &events.Message{Info: saved.Message.Info, RawMessage: raw, RetryCount: saved.Message.RetryCount}
		return evt.UnwrapRaw(), nil
	case saved.Receipt != nil:
		return saved.Receipt, nil
	case saved.Undecryptable != nil:
		return saved.Undecryptable, nil
	default:
		return nil, errors.New("queued event has no content")
	}
}
