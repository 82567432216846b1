package wastore

// The differential test runs one seeded random sequence of store operations
// against this package and against whatsmeow's own sqlstore on SQLite, and
// compares every result. The reference differs from a plain sqlstore in
// three places, each an intended difference of this store:
//
//   - Privacy tokens: sqlstore's table has no foreign key to the device, so
//     its tokens outlive device deletion. Ours are deleted with the device,
//     so the reference deletes them explicitly.
//   - LID map: sqlstore's CachedLIDMap keeps stale cache entries after a LID
//     is remapped and then skips writes it believes done. The reference uses
//     a fresh CachedLIDMap per operation, which gives the semantics of
//     sqlstore's SQL, and builds GetManyLIDsForPNs from GetLIDForPN because
//     sqlstore drops the device of LIDs read from the database but keeps it
//     for cached ones.
//   - Pre-key material is random, so pre-keys are compared by id, and each
//     side's keys are checked against the keys that side generated.

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	_ "github.com/glebarez/go-sqlite" // registers the "sqlite" driver
	"go.mau.fi/util/dbutil"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	"gorm.io/gorm"
)

// slot is one device JID of the run and its handle on each side, nil while
// the device is not stored.
type slot struct {
	jid       types.JID
	ours, ref *store.Device
	// pre-key private keys each side generated, by id
	ourPreKeys, refPreKeys map[uint32][32]byte
}

type harness struct {
	t   *testing.T
	ctx context.Context
	rng *rand.Rand
	op  int    // number of the running operation
	now string // description of the running operation

	ours       *Container
	ref        *sqlstore.Container
	refDB      *sql.DB
	refWrapped *dbutil.Database

	slots   []*slot
	pools   pools
	secrets []store.MessageSecretInsert // message secrets put so far
	macKeys []macKey                    // mutation MACs put so far
	// timestamps already used, so that "newest" is never a tie
	usedSyncKeyTS, usedTokenTS map[int64]bool
}

func newHarness(t *testing.T, db *gorm.DB, seed uint64) *harness {
	t.Helper()
	ctx := context.Background()
	refDB, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "ref.db")+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		t.Fatal(err)
	}
	refDB.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = refDB.Close() })
	ref := sqlstore.NewWithDB(refDB, "sqlite3", nil)
	if err := ref.Upgrade(ctx); err != nil {
		t.Fatalf("upgrade reference sqlstore: %v", err)
	}
	wrapped, err := dbutil.NewWithDB(refDB, "sqlite3")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	h := &harness{
		t: t, ctx: ctx, rng: rng,
		ours: newTestContainer(t, db), ref: ref, refDB: refDB, refWrapped: wrapped,
		pools:         newPools(rng),
		usedSyncKeyTS: map[int64]bool{}, usedTokenTS: map[int64]bool{},
	}
	for i, phone := range []string{"79990000101", "79990000102"} {
		h.slots = append(h.slots, &slot{jid: types.NewADJID(phone, 0, uint8(3+i))})
	}
	return h
}

// pools are the small value sets operations draw from, small enough that
// operations often hit the same rows.
type pools struct {
	pnUsers, lidUsers []string
	addresses         []string
	groups            []string
	appStateNames     []string
	indexMACs         [][]byte
	syncKeyIDs        [][]byte
	messageIDs        []string
	hashes            [][32]byte
}

func newPools(rng *rand.Rand) pools {
	p := pools{
		pnUsers:       []string{"79990000001", "79990000002", "79990000003", "79990000004"},
		lidUsers:      []string{"100000000000001", "100000000000002", "100000000000003", "100000000000004"},
		groups:        []string{"120363000000000001@g.us", "120363000000000002@g.us"},
		appStateNames: []string{"critical_block", "regular_high", "regular"},
		messageIDs:    []string{"3EB0A1", "3EB0A2", "3EB0A3"},
	}
	for _, user := range append(append([]string{}, p.pnUsers...), lidSignalUsers(p.lidUsers)...) {
		for device := range 3 {
			p.addresses = append(p.addresses, fmt.Sprintf("%s:%d", user, device))
		}
	}
	for range 6 {
		p.indexMACs = append(p.indexMACs, seededBytes(rng, 32))
	}
	for range 4 {
		p.syncKeyIDs = append(p.syncKeyIDs, seededBytes(rng, 6))
	}
	for range 4 {
		p.hashes = append(p.hashes, [32]byte(seededBytes(rng, 32)))
	}
	return p
}

func lidSignalUsers(lids []string) []string {
	out := make([]string, len(lids))
	for i, lid := range lids {
		out[i] = types.NewJID(lid, types.HiddenUserServer).SignalAddressUser()
	}
	return out
}

func seededBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

func pick[T any](h *harness, values []T) T { return values[h.rng.IntN(len(values))] }

func (h *harness) pnJID() types.JID {
	return types.NewJID(pick(h, h.pools.pnUsers), types.DefaultUserServer)
}

func (h *harness) lidJID() types.JID {
	return types.NewJID(pick(h, h.pools.lidUsers), types.HiddenUserServer)
}

// userJID returns a phone-number or LID JID, sometimes with a device.
func (h *harness) userJID() types.JID {
	jid := h.pnJID()
	if h.rng.IntN(2) == 0 {
		jid = h.lidJID()
	}
	if h.rng.IntN(4) == 0 {
		jid.Device = uint16(1 + h.rng.IntN(3))
	}
	return jid
}

// contactJID returns one of a few contacts, so that contact operations
// often meet the same rows.
func (h *harness) contactJID() types.JID {
	jid := types.NewJID(pick(h, h.pools.pnUsers[:2]), types.DefaultUserServer)
	if h.rng.IntN(2) == 0 {
		jid = types.NewJID(pick(h, h.pools.lidUsers[:2]), types.HiddenUserServer)
	}
	if h.rng.IntN(6) == 0 {
		jid.Device = 1
	}
	return jid
}

// chatJID returns a user or group chat.
func (h *harness) chatJID() types.JID {
	if h.rng.IntN(3) == 0 {
		jid, _ := types.ParseJID(pick(h, h.pools.groups))
		return jid
	}
	return h.userJID().ToNonAD()
}

func (h *harness) blob() []byte { return seededBytes(h.rng, 1+h.rng.IntN(64)) }

// uniqueTS returns a timestamp in [1, 1000] not returned before from used.
func (h *harness) uniqueTS(used map[int64]bool) int64 {
	for {
		ts := 1 + h.rng.Int64N(1000)
		if !used[ts] {
			used[ts] = true
			return ts
		}
	}
}

// stored returns a slot whose device is stored on both sides, or nil.
func (h *harness) stored() *slot {
	var candidates []*slot
	for _, s := range h.slots {
		if s.ours != nil {
			candidates = append(candidates, s)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	return pick(h, candidates)
}

// same fails the test when the two sides returned different values.
func (h *harness) same(label string, ours, ref any) {
	h.t.Helper()
	if !reflect.DeepEqual(ours, ref) {
		h.t.Fatalf("op %d %s: %s differs\n ours: %#v\n  ref: %#v", h.op, h.now, label, ours, ref)
	}
}

// sameErr fails the test when one side failed and the other did not.
func (h *harness) sameErr(ours, ref error) {
	h.t.Helper()
	if (ours == nil) != (ref == nil) {
		h.t.Fatalf("op %d %s: error differs\n ours: %v\n  ref: %v", h.op, h.now, ours, ref)
	}
}

// freshLIDs returns a reference LID map without cached state.
func (h *harness) freshLIDs() *sqlstore.CachedLIDMap {
	return sqlstore.NewCachedLIDMap(h.refWrapped)
}
