package wastore

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm/clause"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// lidStore is the global LID to phone-number map shared by every device.
type lidStore struct {
	c     *Container
	cache *lidCache
}

func newLIDStore(c *Container) *lidStore {
	return &lidStore{c: c, cache: newLIDCache()}
}

// GetLIDForPN returns the LID of a phone-number JID, keeping its device, or
// an empty JID when the mapping is unknown.
func (l *lidStore) GetLIDForPN(ctx context.Context, pn types.JID) (types.JID, error) {
	if pn.Server != types.DefaultUserServer {
		return types.EmptyJID, fmt.Errorf("%w: GetLIDForPN needs a phone-number JID, got %s", ErrInvalidJID, pn)
	}
	lid, err := l.lookup(ctx, true, pn.User)
	if err != nil || lid == "" {
		return types.EmptyJID, err
	}
	return types.JID{User: lid, Device: pn.Device, Server: types.HiddenUserServer}, nil
}

// GetPNForLID returns the phone-number JID of a LID, keeping its device, or
// an empty JID when the mapping is unknown.
func (l *lidStore) GetPNForLID(ctx context.Context, lid types.JID) (types.JID, error) {
	if lid.Server != types.HiddenUserServer {
		return types.EmptyJID, fmt.Errorf("%w: GetPNForLID needs a LID, got %s", ErrInvalidJID, lid)
	}
	pn, err := l.lookup(ctx, false, lid.User)
	if err != nil || pn == "" {
		return types.EmptyJID, err
	}
	return types.JID{User: pn, Device: lid.Device, Server: types.DefaultUserServer}, nil
}

// lookup returns the mapped user from the cache or the database.
func (l *lidStore) lookup(ctx context.Context, fromPN bool, user string) (string, error) {
	target, ok, generation := l.cache.lookup(fromPN, user)
	if ok {
		return target, nil
	}
	source, column := "lid", "pn"
	if fromPN {
		source, column = "pn", "lid"
	}
	var rows []lidMapRow
	if err := l.c.conn(ctx).Where(source+" = ?", user).Limit(1).Find(&rows).Error; err != nil {
		return "", fmt.Errorf("get %s for %s %s: %w", column, source, user, err)
	}
	if len(rows) > 0 {
		target = rows[0].LID
		if !fromPN {
			target = rows[0].PN
		}
	}
	l.cache.fill(generation, fromPN, map[string]string{user: target})
	return target, nil
}

// GetManyLIDsForPNs returns the LIDs of the phone-number JIDs that have one,
// keyed by the given JIDs. Other JIDs are left out. Each LID keeps the device
// of its JID, which sqlstore does only for mappings it had cached.
func (l *lidStore) GetManyLIDsForPNs(ctx context.Context, pns []types.JID) (map[types.JID]types.JID, error) {
	if len(pns) == 0 {
		return nil, nil
	}
	result := make(map[types.JID]types.JID, len(pns))
	var missing []string
	generation := uint64(0)
	for _, pn := range pns {
		if pn.Server != types.DefaultUserServer {
			continue
		}
		lid, ok, gen := l.cache.lookup(true, pn.User)
		if !ok {
			missing = append(missing, pn.User)
			generation = gen
			continue
		}
		if lid != "" {
			result[pn] = types.JID{User: lid, Device: pn.Device, Server: types.HiddenUserServer}
		}
	}
	if len(missing) == 0 {
		return result, nil
	}
	found, err := l.readLIDs(ctx, missing)
	if err != nil {
		return nil, err
	}
	l.cache.fill(generation, true, found)
	for _, pn := range pns {
		if lid := found[pn.User]; lid != "" && pn.Server == types.DefaultUserServer {
			result[pn] = types.JID{User: lid, Device: pn.Device, Server: types.HiddenUserServer}
		}
	}
	return result, nil
}

// readLIDs maps each phone-number user to its LID, "" when it has none.
func (l *lidStore) readLIDs(ctx context.Context, pnUsers []string) (map[string]string, error) {
	pnUsers = slices.Compact(slices.Sorted(slices.Values(pnUsers)))
	found := make(map[string]string, len(pnUsers))
	for _, user := range pnUsers {
		found[user] = ""
	}
	for chunk := range slices.Chunk(pnUsers, queryChunk) {
		var rows []lidMapRow
		if err := l.c.conn(ctx).Where("pn IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("get LIDs of %d phone numbers: %w", len(chunk), err)
		}
		for _, row := range rows {
			found[row.PN] = row.LID
		}
	}
	return found, nil
}

// withAlternate returns the string of jid and, for a phone-number JID or a
// LID with a stored mapping, the string of its other form. It reads the
// database, not the cache, like sqlstore's queries of message secrets and
// privacy tokens.
func (l *lidStore) withAlternate(ctx context.Context, jid types.JID) ([]string, error) {
	forms := []string{jid.String()}
	var rows []lidMapRow
	var err error
	switch jid.Server {
	case types.DefaultUserServer:
		err = l.c.conn(ctx).Where("pn = ?", jid.User).Limit(1).Find(&rows).Error
		if err == nil && len(rows) > 0 {
			forms = append(forms, types.NewJID(rows[0].LID, types.HiddenUserServer).String())
		}
	case types.HiddenUserServer:
		err = l.c.conn(ctx).Where("lid = ?", jid.User).Limit(1).Find(&rows).Error
		if err == nil && len(rows) > 0 {
			forms = append(forms, types.NewJID(rows[0].PN, types.DefaultUserServer).String())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("get other form of %s: %w", jid, err)
	}
	return forms, nil
}

// PutLIDMapping stores that lid and pn are the same user, replacing any
// other mapping of either.
func (l *lidStore) PutLIDMapping(ctx context.Context, lid, pn types.JID) error {
	if lid.Server != types.HiddenUserServer || pn.Server != types.DefaultUserServer {
		return fmt.Errorf("%w: PutLIDMapping(%s, %s) needs a LID and a phone-number JID", ErrInvalidJID, lid, pn)
	}
	if cached, ok, _ := l.cache.lookup(true, pn.User); ok && cached == lid.User {
		return nil
	}
	return l.putMappings(ctx, []store.LIDMapping{{LID: lid, PN: pn}})
}

// PutManyLIDMappings stores several mappings in one transaction, in order.
// Invalid entries are skipped and logged at debug level, and entries equal to
// an earlier one are dropped. The caller's slice is not modified.
func (l *lidStore) PutManyLIDMappings(ctx context.Context, mappings []store.LIDMapping) error {
	valid := make([]store.LIDMapping, 0, len(mappings))
	seen := make(map[store.LIDMapping]struct{}, len(mappings))
	for _, m := range mappings {
		if m.LID.Server != types.HiddenUserServer || m.PN.Server != types.DefaultUserServer {
			l.c.log.DebugContext(ctx, "Skipped invalid LID mapping", "lid", m.LID.String(), "pn", m.PN.String())
			continue
		}
		if _, dup := seen[m]; dup {
			continue
		}
		seen[m] = struct{}{}
		valid = append(valid, m)
	}
	valid = l.dropCachedNoOps(valid)
	if len(valid) == 0 {
		return nil
	}
	return l.putMappings(ctx, valid)
}

// dropCachedNoOps removes mappings the cache shows as already stored, when
// no other mapping of the batch touches the same LID or phone number and so
// the write could not change anything.
func (l *lidStore) dropCachedNoOps(mappings []store.LIDMapping) []store.LIDMapping {
	lids := make(map[string]int, len(mappings))
	pns := make(map[string]int, len(mappings))
	for _, m := range mappings {
		lids[m.LID.User]++
		pns[m.PN.User]++
	}
	return slices.DeleteFunc(mappings, func(m store.LIDMapping) bool {
		if lids[m.LID.User] > 1 || pns[m.PN.User] > 1 {
			return false
		}
		cached, ok, _ := l.cache.lookup(true, m.PN.User)
		return ok && cached == m.LID.User
	})
}

// putMappings writes mappings in order in one transaction, then records
// them in the cache.
func (l *lidStore) putMappings(ctx context.Context, mappings []store.LIDMapping) error {
	writes := make([]lidWrite, 0, len(mappings))
	err := l.c.inTx(ctx, func(ctx context.Context) error {
		for _, m := range mappings {
			w, err := l.putMapping(ctx, m.LID.User, m.PN.User)
			if err != nil {
				return err
			}
			writes = append(writes, w)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d LID mappings: %w", len(mappings), err)
	}
	l.cache.stored(writes)
	return nil
}

// putMapping deletes the row of another LID mapped to pn and upserts
// lid -> pn, as sqlstore does, and reports which users lost a mapping.
func (l *lidStore) putMapping(ctx context.Context, lid, pn string) (lidWrite, error) {
	w := lidWrite{lid: lid, pn: pn}
	db := l.c.conn(ctx)
	var old []lidMapRow
	if err := db.Where("lid = ? OR pn = ?", lid, pn).Find(&old).Error; err != nil {
		return w, err
	}
	for _, row := range old {
		if row.LID != lid {
			w.orphanLIDs = append(w.orphanLIDs, row.LID)
		} else if row.PN != pn {
			w.orphanPNs = append(w.orphanPNs, row.PN)
		}
	}
	if err := db.Where("lid <> ? AND pn = ?", lid, pn).Delete(&lidMapRow{}).Error; err != nil {
		return w, err
	}
	err := db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "lid"}},
		DoUpdates: clause.AssignmentColumns([]string{"pn"}),
	}).Create(&lidMapRow{LID: lid, PN: pn}).Error
	return w, err
}
