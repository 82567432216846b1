package wastore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
)

// operation is one kind of step of the differential run.
type operation struct {
	name   string
	weight int
	run    func(h *harness, s *slot) // s is a stored device, nil for global steps
	global bool                      // runs without a stored device
}

func operations() []operation {
	return []operation{
		{"put new device", 3, (*harness).putNewDevice, true},
		{"update device", 2, (*harness).updateDevice, false},
		{"get device", 2, (*harness).getDevice, true},
		{"delete device", 1, (*harness).deleteDevice, false},

		{"put identity", 4, (*harness).putIdentity, false},
		{"delete identity", 1, (*harness).deleteIdentity, false},
		{"delete all identities", 1, (*harness).deleteAllIdentities, false},
		{"is trusted identity", 3, (*harness).isTrustedIdentity, false},

		{"put session", 4, (*harness).putSession, false},
		{"put many sessions", 2, (*harness).putManySessions, false},
		{"get session", 3, (*harness).getSession, false},
		{"get many sessions", 2, (*harness).getManySessions, false},
		{"delete session", 1, (*harness).deleteSession, false},
		{"delete all sessions", 1, (*harness).deleteAllSessions, false},
		{"migrate PN to LID", 1, (*harness).migratePNToLID, false},

		{"get or gen pre-keys", 2, (*harness).getOrGenPreKeys, false},
		{"gen one pre-key", 1, (*harness).genOnePreKey, false},
		{"get pre-key", 3, (*harness).getPreKey, false},
		{"remove pre-key", 1, (*harness).removePreKey, false},
		{"mark pre-keys uploaded", 1, (*harness).markPreKeysUploaded, false},

		{"put sender key", 2, (*harness).putSenderKey, false},
		{"get sender key", 2, (*harness).getSenderKey, false},

		{"put app state sync key", 2, (*harness).putSyncKey, false},
		{"get app state sync key", 2, (*harness).getSyncKey, false},
		{"put app state version", 2, (*harness).putAppStateVersion, false},
		{"delete app state version", 1, (*harness).deleteAppStateVersion, false},
		{"put mutation MACs", 3, (*harness).putMutationMACs, false},
		{"delete mutation MACs", 1, (*harness).deleteMutationMACs, false},
		{"get mutation MAC", 3, (*harness).getMutationMAC, false},

		{"put push name", 3, (*harness).putPushName, false},
		{"put business name", 1, (*harness).putBusinessName, false},
		{"put contact name", 2, (*harness).putContactName, false},
		{"put all contact names", 1, (*harness).putAllContactNames, false},
		{"put redacted phones", 1, (*harness).putRedactedPhones, false},
		{"get contact", 3, (*harness).getContact, false},

		{"put chat setting", 3, (*harness).putChatSetting, false},
		{"get chat settings", 2, (*harness).getChatSettings, false},

		{"put message secret", 2, (*harness).putMessageSecret, false},
		{"put message secrets", 1, (*harness).putMessageSecrets, false},
		{"get message secret", 3, (*harness).getMessageSecret, false},
		{"put privacy tokens", 2, (*harness).putPrivacyTokens, false},
		{"get privacy token", 2, (*harness).getPrivacyToken, false},

		{"put LID mapping", 3, (*harness).putLIDMapping, true},
		{"put many LID mappings", 2, (*harness).putManyLIDMappings, true},
		{"get LID mappings", 4, (*harness).getLIDMappings, true},

		{"put buffered event", 2, (*harness).putBufferedEvent, false},
		{"get buffered event", 2, (*harness).getBufferedEvent, false},
		{"clear buffered event", 1, (*harness).clearBufferedEvent, false},
		{"decryption transaction", 2, (*harness).decryptionTxn, false},
	}
}

// run executes n random operations and then compares every device's full
// state once more.
func (h *harness) run(n int) {
	ops := operations()
	total := 0
	for _, op := range ops {
		total += op.weight
	}
	for h.op = 0; h.op < n; h.op++ {
		roll := h.rng.IntN(total)
		op := ops[0]
		for _, candidate := range ops {
			if roll < candidate.weight {
				op = candidate
				break
			}
			roll -= candidate.weight
		}
		s := h.stored()
		if s == nil && !op.global {
			op = ops[0]
		}
		h.now = op.name
		op.run(h, s)
	}
	h.now = "final comparison"
	h.compareAll()
}

// compareAll compares the device list and every stored device's contacts.
func (h *harness) compareAll() {
	h.getDevice(nil)
	for _, s := range h.slots {
		if s.ours == nil {
			continue
		}
		ours, errOurs := s.ours.Contacts.GetAllContacts(h.ctx)
		ref, errRef := s.ref.Contacts.GetAllContacts(h.ctx)
		h.sameErr(errOurs, errRef)
		h.same("all contacts of "+s.jid.String(), ours, ref)
		ourCount, errOurs := s.ours.PreKeys.UploadedPreKeyCount(h.ctx)
		refCount, errRef := s.ref.PreKeys.UploadedPreKeyCount(h.ctx)
		h.sameErr(errOurs, errRef)
		h.same("uploaded pre-key count", ourCount, refCount)
	}
}

func (h *harness) putNewDevice(_ *slot) {
	s := pick(h, h.slots)
	if s.ours != nil {
		h.updateDevice(s)
		return
	}
	ours := pairedDevice(h.t, h.ours, s.jid.User, s.jid.Device)
	ref := *ours
	ref.Container, ref.Log = nil, nil
	errOurs := h.ours.PutDevice(h.ctx, ours)
	errRef := h.ref.PutDevice(h.ctx, &ref)
	h.sameErr(errOurs, errRef)
	s.ours, s.ref = ours, &ref
	s.ourPreKeys, s.refPreKeys = map[uint32][32]byte{}, map[uint32][32]byte{}
}

func (h *harness) updateDevice(s *slot) {
	pushName := fmt.Sprintf("Name %d", h.rng.IntN(5))
	lid := types.JID{User: pick(h, h.pools.lidUsers), Device: s.jid.Device, Server: types.HiddenUserServer}
	ts := h.rng.Int64N(1_000_000)
	newKey := keys.NewKeyPair() // PutDevice must keep the stored key
	for _, device := range []*store.Device{s.ours, s.ref} {
		device.PushName, device.LID, device.LIDMigrationTimestamp = pushName, lid, ts
		device.NoiseKey = newKey
	}
	h.sameErr(s.ours.Save(h.ctx), s.ref.Save(h.ctx))
	h.getDevice(s)
}

func (h *harness) getDevice(_ *slot) {
	ourAll, errOurs := h.ours.GetAllDevices(h.ctx)
	refAll, errRef := h.ref.GetAllDevices(h.ctx)
	h.sameErr(errOurs, errRef)
	h.same("device count", len(ourAll), len(refAll))
	for i := range ourAll {
		if diff := deviceDiff(refAll[i], ourAll[i]); diff != "" {
			h.t.Fatalf("op %d %s: device %d differs: %s", h.op, h.now, i, diff)
		}
	}
	jid := pick(h, h.slots).jid
	ours, errOurs := h.ours.GetDevice(h.ctx, jid)
	ref, errRef := h.ref.GetDevice(h.ctx, jid)
	h.sameErr(errOurs, errRef)
	if diff := deviceDiff(ref, ours); diff != "" {
		h.t.Fatalf("op %d %s: GetDevice(%s) differs: %s", h.op, h.now, jid, diff)
	}
}

func (h *harness) deleteDevice(s *slot) {
	h.sameErr(s.ours.Delete(h.ctx), s.ref.Delete(h.ctx))
	// sqlstore keeps privacy tokens of deleted devices, this store does not.
	if _, err := h.refDB.ExecContext(h.ctx, "DELETE FROM whatsmeow_privacy_tokens WHERE our_jid = ?", s.jid.String()); err != nil {
		h.t.Fatal(err)
	}
	s.ours, s.ref = nil, nil
	h.getDevice(nil)
}

func (h *harness) putIdentity(s *slot) {
	address := pick(h, h.pools.addresses)
	key := [32]byte(seededBytes(h.rng, 32))
	if h.rng.IntN(3) == 0 {
		key = [32]byte{byte(h.rng.IntN(2))} // few distinct keys, so trust checks can match
	}
	h.sameErr(s.ours.Identities.PutIdentity(h.ctx, address, key), s.ref.Identities.PutIdentity(h.ctx, address, key))
}

func (h *harness) deleteIdentity(s *slot) {
	address := pick(h, h.pools.addresses)
	h.sameErr(s.ours.Identities.DeleteIdentity(h.ctx, address), s.ref.Identities.DeleteIdentity(h.ctx, address))
}

func (h *harness) deleteAllIdentities(s *slot) {
	user := pick(h, append(append([]string{}, h.pools.pnUsers...), lidSignalUsers(h.pools.lidUsers)...))
	h.sameErr(s.ours.Identities.DeleteAllIdentities(h.ctx, user), s.ref.Identities.DeleteAllIdentities(h.ctx, user))
}

func (h *harness) isTrustedIdentity(s *slot) {
	address := pick(h, h.pools.addresses)
	key := [32]byte{byte(h.rng.IntN(2))}
	ours, errOurs := s.ours.Identities.IsTrustedIdentity(h.ctx, address, key)
	ref, errRef := s.ref.Identities.IsTrustedIdentity(h.ctx, address, key)
	h.sameErr(errOurs, errRef)
	h.same("trusted "+address, ours, ref)
}

func (h *harness) putSession(s *slot) {
	address, session := pick(h, h.pools.addresses), h.blob()
	h.sameErr(s.ours.Sessions.PutSession(h.ctx, address, session), s.ref.Sessions.PutSession(h.ctx, address, session))
}

func (h *harness) putManySessions(s *slot) {
	sessions := map[string][]byte{}
	for range 1 + h.rng.IntN(4) {
		sessions[pick(h, h.pools.addresses)] = h.blob()
	}
	h.sameErr(s.ours.Sessions.PutManySessions(h.ctx, sessions), s.ref.Sessions.PutManySessions(h.ctx, sessions))
}

func (h *harness) getSession(s *slot) {
	address := pick(h, h.pools.addresses)
	ours, errOurs := s.ours.Sessions.GetSession(h.ctx, address)
	ref, errRef := s.ref.Sessions.GetSession(h.ctx, address)
	h.sameErr(errOurs, errRef)
	h.same("session "+address, ours, ref)
	has, errOurs := s.ours.Sessions.HasSession(h.ctx, address)
	refHas, errRef := s.ref.Sessions.HasSession(h.ctx, address)
	h.sameErr(errOurs, errRef)
	h.same("has session "+address, has, refHas)
}

func (h *harness) getManySessions(s *slot) {
	var addresses []string
	for range h.rng.IntN(5) {
		addresses = append(addresses, pick(h, h.pools.addresses))
	}
	ours, errOurs := s.ours.Sessions.GetManySessions(h.ctx, addresses)
	ref, errRef := s.ref.Sessions.GetManySessions(h.ctx, addresses)
	h.sameErr(errOurs, errRef)
	h.same("sessions", ours, ref)
}

func (h *harness) deleteSession(s *slot) {
	address := pick(h, h.pools.addresses)
	h.sameErr(s.ours.Sessions.DeleteSession(h.ctx, address), s.ref.Sessions.DeleteSession(h.ctx, address))
}

func (h *harness) deleteAllSessions(s *slot) {
	user := pick(h, append(append([]string{}, h.pools.pnUsers...), lidSignalUsers(h.pools.lidUsers)...))
	h.sameErr(s.ours.Sessions.DeleteAllSessions(h.ctx, user), s.ref.Sessions.DeleteAllSessions(h.ctx, user))
}

func (h *harness) migratePNToLID(s *slot) {
	pn, lid := h.pnJID(), h.lidJID()
	h.sameErr(s.ours.Sessions.MigratePNToLID(h.ctx, pn, lid), s.ref.Sessions.MigratePNToLID(h.ctx, pn, lid))
	all := slices.Clone(h.pools.addresses)
	ours, errOurs := s.ours.Sessions.GetManySessions(h.ctx, all)
	ref, errRef := s.ref.Sessions.GetManySessions(h.ctx, all)
	h.sameErr(errOurs, errRef)
	h.same("sessions after migration", ours, ref)
}

func (h *harness) getOrGenPreKeys(s *slot) {
	count := uint32(h.rng.IntN(4))
	ours, errOurs := s.ours.PreKeys.GetOrGenPreKeys(h.ctx, count)
	ref, errRef := s.ref.PreKeys.GetOrGenPreKeys(h.ctx, count)
	h.sameErr(errOurs, errRef)
	h.same("pre-key ids", preKeyIDs(ours), preKeyIDs(ref))
	h.checkOwnPreKeys(s.ourPreKeys, ours)
	h.checkOwnPreKeys(s.refPreKeys, ref)
}

func (h *harness) genOnePreKey(s *slot) {
	ours, errOurs := s.ours.PreKeys.GenOnePreKey(h.ctx)
	ref, errRef := s.ref.PreKeys.GenOnePreKey(h.ctx)
	h.sameErr(errOurs, errRef)
	h.same("pre-key id", preKeyIDs([]*keys.PreKey{ours}), preKeyIDs([]*keys.PreKey{ref}))
	h.checkOwnPreKeys(s.ourPreKeys, []*keys.PreKey{ours})
	h.checkOwnPreKeys(s.refPreKeys, []*keys.PreKey{ref})
}

func (h *harness) getPreKey(s *slot) {
	id := uint32(h.rng.IntN(12))
	ours, errOurs := s.ours.PreKeys.GetPreKey(h.ctx, id)
	ref, errRef := s.ref.PreKeys.GetPreKey(h.ctx, id)
	h.sameErr(errOurs, errRef)
	h.same("pre-key", preKeyIDs([]*keys.PreKey{ours}), preKeyIDs([]*keys.PreKey{ref}))
	h.checkOwnPreKeys(s.ourPreKeys, []*keys.PreKey{ours})
	h.checkOwnPreKeys(s.refPreKeys, []*keys.PreKey{ref})
}

func (h *harness) removePreKey(s *slot) {
	id := uint32(h.rng.IntN(12))
	h.sameErr(s.ours.PreKeys.RemovePreKey(h.ctx, id), s.ref.PreKeys.RemovePreKey(h.ctx, id))
	// A removed id is reused when it was the highest, with a new key.
	delete(s.ourPreKeys, id)
	delete(s.refPreKeys, id)
}

func (h *harness) markPreKeysUploaded(s *slot) {
	id := uint32(h.rng.IntN(12))
	h.sameErr(s.ours.PreKeys.MarkPreKeysAsUploaded(h.ctx, id), s.ref.PreKeys.MarkPreKeysAsUploaded(h.ctx, id))
	ours, errOurs := s.ours.PreKeys.UploadedPreKeyCount(h.ctx)
	ref, errRef := s.ref.PreKeys.UploadedPreKeyCount(h.ctx)
	h.sameErr(errOurs, errRef)
	h.same("uploaded pre-key count", ours, ref)
}

// preKeyIDs returns the ids of keys, -1 for a nil key.
func preKeyIDs(list []*keys.PreKey) []int64 {
	ids := make([]int64, len(list))
	for i, key := range list {
		ids[i] = -1
		if key != nil {
			ids[i] = int64(key.KeyID)
		}
	}
	return ids
}

// checkOwnPreKeys checks that keys a side returns are the ones that side
// generated under the same ids, and remembers new ones.
func (h *harness) checkOwnPreKeys(generated map[uint32][32]byte, list []*keys.PreKey) {
	h.t.Helper()
	for _, key := range list {
		if key == nil {
			continue
		}
		if *key.Pub != *keys.NewKeyPairFromPrivateKey(*key.Priv).Pub {
			h.t.Fatalf("op %d %s: pre-key %d has a public key that does not match its private key", h.op, h.now, key.KeyID)
		}
		if known, ok := generated[key.KeyID]; ok && known != *key.Priv {
			h.t.Fatalf("op %d %s: pre-key %d changed its private key", h.op, h.now, key.KeyID)
		}
		generated[key.KeyID] = *key.Priv
	}
}

func (h *harness) putSenderKey(s *slot) {
	group, user, key := pick(h, h.pools.groups), pick(h, h.pools.addresses), h.blob()
	h.sameErr(s.ours.SenderKeys.PutSenderKey(h.ctx, group, user, key), s.ref.SenderKeys.PutSenderKey(h.ctx, group, user, key))
}

func (h *harness) getSenderKey(s *slot) {
	group, user := pick(h, h.pools.groups), pick(h, h.pools.addresses)
	ours, errOurs := s.ours.SenderKeys.GetSenderKey(h.ctx, group, user)
	ref, errRef := s.ref.SenderKeys.GetSenderKey(h.ctx, group, user)
	h.sameErr(errOurs, errRef)
	h.same("sender key of "+user, ours, ref)
}

func (h *harness) putSyncKey(s *slot) {
	id := pick(h, h.pools.syncKeyIDs)
	key := store.AppStateSyncKey{Data: h.blob(), Fingerprint: h.blob(), Timestamp: h.uniqueTS(h.usedSyncKeyTS)}
	h.sameErr(s.ours.AppStateKeys.PutAppStateSyncKey(h.ctx, id, key), s.ref.AppStateKeys.PutAppStateSyncKey(h.ctx, id, key))
	h.getSyncKey(s)
}

func (h *harness) getSyncKey(s *slot) {
	id := pick(h, h.pools.syncKeyIDs)
	ours, errOurs := s.ours.AppStateKeys.GetAppStateSyncKey(h.ctx, id)
	ref, errRef := s.ref.AppStateKeys.GetAppStateSyncKey(h.ctx, id)
	h.sameErr(errOurs, errRef)
	h.same("sync key", ours, ref)
	latest, errOurs := s.ours.AppStateKeys.GetLatestAppStateSyncKeyID(h.ctx)
	refLatest, errRef := s.ref.AppStateKeys.GetLatestAppStateSyncKeyID(h.ctx)
	h.sameErr(errOurs, errRef)
	h.same("latest sync key id", latest, refLatest)
}

func (h *harness) putAppStateVersion(s *slot) {
	name, version := pick(h, h.pools.appStateNames), uint64(h.rng.IntN(20))
	hash := [128]byte(seededBytes(h.rng, 128))
	h.sameErr(s.ours.AppState.PutAppStateVersion(h.ctx, name, version, hash), s.ref.AppState.PutAppStateVersion(h.ctx, name, version, hash))
	h.getAppStateVersion(s, name)
}

func (h *harness) getAppStateVersion(s *slot, name string) {
	version, hash, errOurs := s.ours.AppState.GetAppStateVersion(h.ctx, name)
	refVersion, refHash, errRef := s.ref.AppState.GetAppStateVersion(h.ctx, name)
	h.sameErr(errOurs, errRef)
	h.same("app state version of "+name, version, refVersion)
	h.same("app state hash of "+name, hash, refHash)
}

func (h *harness) deleteAppStateVersion(s *slot) {
	name := pick(h, h.pools.appStateNames)
	h.sameErr(s.ours.AppState.DeleteAppStateVersion(h.ctx, name), s.ref.AppState.DeleteAppStateVersion(h.ctx, name))
	h.getAppStateVersion(s, name)
}

// putMutationMACs usually stores the collection's version first, as
// whatsmeow does, because the MACs need it.
func (h *harness) putMutationMACs(s *slot) {
	name, version := pick(h, h.pools.appStateNames), uint64(h.rng.IntN(4))
	if h.rng.IntN(3) > 0 {
		hash := [128]byte(seededBytes(h.rng, 128))
		h.sameErr(s.ours.AppState.PutAppStateVersion(h.ctx, name, version, hash), s.ref.AppState.PutAppStateVersion(h.ctx, name, version, hash))
	}
	var macs []store.AppStateMutationMAC
	for range h.rng.IntN(4) {
		index := pick(h, h.pools.indexMACs)
		macs = append(macs, store.AppStateMutationMAC{IndexMAC: index, ValueMAC: seededBytes(h.rng, 32)})
		h.macKeys = append(h.macKeys, macKey{name, index})
	}
	h.sameErr(s.ours.AppState.PutAppStateMutationMACs(h.ctx, name, version, macs), s.ref.AppState.PutAppStateMutationMACs(h.ctx, name, version, macs))
}

type macKey struct {
	name  string
	index []byte
}

func (h *harness) deleteMutationMACs(s *slot) {
	name := pick(h, h.pools.appStateNames)
	var indexes [][]byte
	for range h.rng.IntN(3) {
		indexes = append(indexes, pick(h, h.pools.indexMACs))
	}
	h.sameErr(s.ours.AppState.DeleteAppStateMutationMACs(h.ctx, name, indexes), s.ref.AppState.DeleteAppStateMutationMACs(h.ctx, name, indexes))
}

func (h *harness) getMutationMAC(s *slot) {
	name, index := pick(h, h.pools.appStateNames), pick(h, h.pools.indexMACs)
	if len(h.macKeys) > 0 && h.rng.IntN(3) > 0 {
		key := pick(h, h.macKeys)
		name, index = key.name, key.index
	}
	ours, errOurs := s.ours.AppState.GetAppStateMutationMAC(h.ctx, name, index)
	ref, errRef := s.ref.AppState.GetAppStateMutationMAC(h.ctx, name, index)
	h.sameErr(errOurs, errRef)
	h.same("mutation MAC", ours, ref)
}

func (h *harness) putPushName(s *slot) {
	user, name := h.contactJID(), fmt.Sprintf("Push %d", h.rng.IntN(3))
	changed, previous, errOurs := s.ours.Contacts.PutPushName(h.ctx, user, name)
	refChanged, refPrevious, errRef := s.ref.Contacts.PutPushName(h.ctx, user, name)
	h.sameErr(errOurs, errRef)
	h.same("push name change", []any{changed, previous}, []any{refChanged, refPrevious})
}

func (h *harness) putBusinessName(s *slot) {
	user, name := h.contactJID(), fmt.Sprintf("Business %d", h.rng.IntN(3))
	changed, previous, errOurs := s.ours.Contacts.PutBusinessName(h.ctx, user, name)
	refChanged, refPrevious, errRef := s.ref.Contacts.PutBusinessName(h.ctx, user, name)
	h.sameErr(errOurs, errRef)
	h.same("business name change", []any{changed, previous}, []any{refChanged, refPrevious})
}

func (h *harness) putContactName(s *slot) {
	user := h.contactJID()
	first, full := fmt.Sprintf("First %d", h.rng.IntN(3)), fmt.Sprintf("Full %d", h.rng.IntN(3))
	h.sameErr(s.ours.Contacts.PutContactName(h.ctx, user, first, full), s.ref.Contacts.PutContactName(h.ctx, user, first, full))
}

func (h *harness) putAllContactNames(s *slot) {
	var entries []store.ContactEntry
	for range 1 + h.rng.IntN(5) {
		entries = append(entries, store.ContactEntry{
			JID: h.contactJID(), FirstName: fmt.Sprintf("First %d", h.rng.IntN(3)), FullName: fmt.Sprintf("Full %d", h.rng.IntN(3)),
		})
	}
	refEntries := slices.Clone(entries) // sqlstore deduplicates in place
	h.sameErr(s.ours.Contacts.PutAllContactNames(h.ctx, entries), s.ref.Contacts.PutAllContactNames(h.ctx, refEntries))
}

func (h *harness) putRedactedPhones(s *slot) {
	var entries []store.RedactedPhoneEntry
	for range 1 + h.rng.IntN(4) {
		entries = append(entries, store.RedactedPhoneEntry{JID: h.lidJID(), RedactedPhone: fmt.Sprintf("+7∙∙∙∙∙∙∙∙%02d", h.rng.IntN(3))})
	}
	refEntries := slices.Clone(entries)
	h.sameErr(s.ours.Contacts.PutManyRedactedPhones(h.ctx, entries), s.ref.Contacts.PutManyRedactedPhones(h.ctx, refEntries))
}

func (h *harness) getContact(s *slot) {
	user := h.contactJID()
	ours, errOurs := s.ours.Contacts.GetContact(h.ctx, user)
	ref, errRef := s.ref.Contacts.GetContact(h.ctx, user)
	h.sameErr(errOurs, errRef)
	h.same("contact "+user.String(), ours, ref)
}

func (h *harness) putChatSetting(s *slot) {
	chat := h.chatJID()
	var errOurs, errRef error
	switch h.rng.IntN(3) {
	case 0:
		until := pick(h, []time.Time{{}, store.MutedForever, time.Unix(1_800_000_000+h.rng.Int64N(1000), 0)})
		errOurs, errRef = s.ours.ChatSettings.PutMutedUntil(h.ctx, chat, until), s.ref.ChatSettings.PutMutedUntil(h.ctx, chat, until)
	case 1:
		pinned := h.rng.IntN(2) == 0
		errOurs, errRef = s.ours.ChatSettings.PutPinned(h.ctx, chat, pinned), s.ref.ChatSettings.PutPinned(h.ctx, chat, pinned)
	default:
		archived := h.rng.IntN(2) == 0
		errOurs, errRef = s.ours.ChatSettings.PutArchived(h.ctx, chat, archived), s.ref.ChatSettings.PutArchived(h.ctx, chat, archived)
	}
	h.sameErr(errOurs, errRef)
}

func (h *harness) getChatSettings(s *slot) {
	chat := h.chatJID()
	ours, errOurs := s.ours.ChatSettings.GetChatSettings(h.ctx, chat)
	ref, errRef := s.ref.ChatSettings.GetChatSettings(h.ctx, chat)
	h.sameErr(errOurs, errRef)
	h.same("chat settings of "+chat.String(), ours, ref)
}

func (h *harness) messageSecretInsert() store.MessageSecretInsert {
	return store.MessageSecretInsert{Chat: h.chatJID(), Sender: h.userJID(), ID: pick(h, h.pools.messageIDs), Secret: seededBytes(h.rng, 32)}
}

func (h *harness) putMessageSecret(s *slot) {
	in := h.messageSecretInsert()
	h.secrets = append(h.secrets, in)
	h.sameErr(s.ours.MsgSecrets.PutMessageSecret(h.ctx, in.Chat, in.Sender, in.ID, in.Secret),
		s.ref.MsgSecrets.PutMessageSecret(h.ctx, in.Chat, in.Sender, in.ID, in.Secret))
}

func (h *harness) putMessageSecrets(s *slot) {
	var inserts []store.MessageSecretInsert
	for range h.rng.IntN(4) {
		inserts = append(inserts, h.messageSecretInsert())
	}
	h.secrets = append(h.secrets, inserts...)
	h.sameErr(s.ours.MsgSecrets.PutMessageSecrets(h.ctx, inserts), s.ref.MsgSecrets.PutMessageSecrets(h.ctx, inserts))
}

func (h *harness) getMessageSecret(s *slot) {
	in := h.messageSecretInsert()
	if len(h.secrets) > 0 && h.rng.IntN(3) > 0 {
		in = pick(h, h.secrets)
		in.Chat, in.Sender = h.maybeAlternate(in.Chat), h.maybeAlternate(in.Sender)
	}
	secret, sender, errOurs := s.ours.MsgSecrets.GetMessageSecret(h.ctx, in.Chat, in.Sender, in.ID)
	refSecret, refSender, errRef := s.ref.MsgSecrets.GetMessageSecret(h.ctx, in.Chat, in.Sender, in.ID)
	h.sameErr(errOurs, errRef)
	h.same("message secret", []any{secret, sender}, []any{refSecret, refSender})
}

// maybeAlternate returns jid or, at random, its other form (LID or phone
// number) when the LID map has one.
func (h *harness) maybeAlternate(jid types.JID) types.JID {
	if h.rng.IntN(2) == 0 {
		return jid
	}
	var alt types.JID
	var err error
	switch jid.Server {
	case types.DefaultUserServer:
		alt, err = h.freshLIDs().GetLIDForPN(h.ctx, jid)
	case types.HiddenUserServer:
		alt, err = h.freshLIDs().GetPNForLID(h.ctx, jid)
	default:
		return jid
	}
	if err != nil {
		h.t.Fatal(err)
	}
	if alt.IsEmpty() {
		return jid
	}
	return alt
}

func (h *harness) putPrivacyTokens(s *slot) {
	var tokens []store.PrivacyToken
	for range 1 + h.rng.IntN(3) {
		ts := time.Unix(1_700_000_000+h.uniqueTS(h.usedTokenTS), 0)
		tokens = append(tokens, store.PrivacyToken{User: h.userJID(), Token: h.blob(), Timestamp: ts})
	}
	h.sameErr(s.ours.PrivacyTokens.PutPrivacyTokens(h.ctx, tokens...), s.ref.PrivacyTokens.PutPrivacyTokens(h.ctx, tokens...))
}

func (h *harness) getPrivacyToken(s *slot) {
	user := h.userJID()
	ours, errOurs := s.ours.PrivacyTokens.GetPrivacyToken(h.ctx, user)
	ref, errRef := s.ref.PrivacyTokens.GetPrivacyToken(h.ctx, user)
	h.sameErr(errOurs, errRef)
	h.same("privacy token of "+user.String(), privacyTokenView(ours), privacyTokenView(ref))
}

func privacyTokenView(token *store.PrivacyToken) []any {
	if token == nil {
		return nil
	}
	return []any{token.User, token.Token, token.Timestamp.Unix()}
}

func (h *harness) putLIDMapping(_ *slot) {
	lid, pn := h.lidJID(), h.pnJID()
	if h.rng.IntN(8) == 0 {
		lid, pn = pn, lid // wrong servers must fail on both sides
	}
	h.sameErr(h.ours.LIDs().PutLIDMapping(h.ctx, lid, pn), h.freshLIDs().PutLIDMapping(h.ctx, lid, pn))
	h.getLIDMappings(nil)
}

func (h *harness) putManyLIDMappings(_ *slot) {
	var mappings []store.LIDMapping
	for range h.rng.IntN(5) {
		m := store.LIDMapping{LID: h.lidJID(), PN: h.pnJID()}
		if h.rng.IntN(8) == 0 {
			m.LID, m.PN = m.PN, m.LID
		}
		mappings = append(mappings, m)
	}
	refMappings := slices.Clone(mappings) // sqlstore filters in place
	h.sameErr(h.ours.LIDs().PutManyLIDMappings(h.ctx, mappings), h.freshLIDs().PutManyLIDMappings(h.ctx, refMappings))
	h.getLIDMappings(nil)
}

func (h *harness) getLIDMappings(_ *slot) {
	for _, user := range h.pools.pnUsers {
		pn := types.JID{User: user, Device: uint16(h.rng.IntN(3)), Server: types.DefaultUserServer}
		ours, errOurs := h.ours.LIDs().GetLIDForPN(h.ctx, pn)
		ref, errRef := h.freshLIDs().GetLIDForPN(h.ctx, pn)
		h.sameErr(errOurs, errRef)
		h.same("LID of "+pn.String(), ours, ref)
	}
	for _, user := range h.pools.lidUsers {
		lid := types.JID{User: user, Device: uint16(h.rng.IntN(3)), Server: types.HiddenUserServer}
		ours, errOurs := h.ours.LIDs().GetPNForLID(h.ctx, lid)
		ref, errRef := h.freshLIDs().GetPNForLID(h.ctx, lid)
		h.sameErr(errOurs, errRef)
		h.same("PN of "+lid.String(), ours, ref)
	}
	wrong := h.lidJID()
	_, errOurs := h.ours.LIDs().GetLIDForPN(h.ctx, wrong)
	_, errRef := h.freshLIDs().GetLIDForPN(h.ctx, wrong)
	h.sameErr(errOurs, errRef)

	var pns []types.JID
	for range h.rng.IntN(5) {
		pns = append(pns, h.userJID())
	}
	// A second container has a cold cache and so reads the database, like
	// another process sharing it.
	lids := h.ours.LIDs()
	if h.rng.IntN(2) == 0 {
		lids = New(h.ours.db, h.ours.box, h.ours.log).LIDs()
	}
	ours, err := lids.GetManyLIDsForPNs(h.ctx, pns)
	if err != nil {
		h.t.Fatalf("op %d %s: GetManyLIDsForPNs: %v", h.op, h.now, err)
	}
	h.same("many LIDs", ours, h.refManyLIDs(pns))
}

// refManyLIDs is sqlstore's GetManyLIDsForPNs as it behaves on cached
// mappings: a LID per phone-number JID that has one, keeping the device.
func (h *harness) refManyLIDs(pns []types.JID) map[types.JID]types.JID {
	if len(pns) == 0 {
		return nil
	}
	result := map[types.JID]types.JID{}
	for _, pn := range pns {
		if pn.Server != types.DefaultUserServer {
			continue
		}
		lid, err := h.freshLIDs().GetLIDForPN(h.ctx, pn)
		if err != nil {
			h.t.Fatal(err)
		}
		if !lid.IsEmpty() {
			result[pn] = lid
		}
	}
	return result
}

func (h *harness) putBufferedEvent(s *slot) {
	hash, plaintext := pick(h, h.pools.hashes), h.blob()
	server := time.Unix(1_700_000_000+h.rng.Int64N(1000), 0)
	h.sameErr(s.ours.EventBuffer.PutBufferedEvent(h.ctx, hash, plaintext, server),
		s.ref.EventBuffer.PutBufferedEvent(h.ctx, hash, plaintext, server))
}

func (h *harness) getBufferedEvent(s *slot) {
	hash := pick(h, h.pools.hashes)
	ours, errOurs := s.ours.EventBuffer.GetBufferedEvent(h.ctx, hash)
	ref, errRef := s.ref.EventBuffer.GetBufferedEvent(h.ctx, hash)
	h.sameErr(errOurs, errRef)
	h.same("buffered event", bufferedEventView(ours), bufferedEventView(ref))
	if ours != nil && ref != nil && ours.InsertTime.Sub(ref.InsertTime).Abs() > time.Minute {
		h.t.Fatalf("op %d %s: insert times %s and %s are far apart", h.op, h.now, ours.InsertTime, ref.InsertTime)
	}
	h.sameErr(s.ours.EventBuffer.DeleteOldBufferedHashes(h.ctx), s.ref.EventBuffer.DeleteOldBufferedHashes(h.ctx))
}

// bufferedEventView drops the insert time, which each side takes from its
// own clock.
func bufferedEventView(event *store.BufferedEvent) []any {
	if event == nil {
		return nil
	}
	return []any{event.Plaintext, event.Plaintext == nil, event.ServerTime.Unix()}
}

func (h *harness) clearBufferedEvent(s *slot) {
	hash := pick(h, h.pools.hashes)
	h.sameErr(s.ours.EventBuffer.ClearBufferedEventPlaintext(h.ctx, hash), s.ref.EventBuffer.ClearBufferedEventPlaintext(h.ctx, hash))
}

var errRollback = errors.New("roll back on purpose")

// decryptionTxn buffers an event and stores a session inside
// DoDecryptionTxn, as whatsmeow's decryption does, and sometimes fails so
// that both must roll back.
func (h *harness) decryptionTxn(s *slot) {
	hash, plaintext := pick(h, h.pools.hashes), h.blob()
	address, session := pick(h, h.pools.addresses), h.blob()
	fail := h.rng.IntN(2) == 0
	body := func(device *store.Device) func(context.Context) error {
		return func(ctx context.Context) error {
			if err := device.Sessions.PutSession(ctx, address, session); err != nil {
				return err
			}
			if err := device.EventBuffer.PutBufferedEvent(ctx, hash, plaintext, time.Unix(1_700_000_000, 0)); err != nil {
				return err
			}
			if fail {
				return errRollback
			}
			return nil
		}
	}
	errOurs := s.ours.EventBuffer.DoDecryptionTxn(h.ctx, body(s.ours))
	errRef := s.ref.EventBuffer.DoDecryptionTxn(h.ctx, body(s.ref))
	h.sameErr(errOurs, errRef)
	ours, errOurs := s.ours.Sessions.GetSession(h.ctx, address)
	ref, errRef := s.ref.Sessions.GetSession(h.ctx, address)
	h.sameErr(errOurs, errRef)
	h.same("session after transaction", ours, ref)
}
