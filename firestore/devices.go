package firestore

import (
	"context"
	"maps"
	"slices"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

var _ chat.DeviceService = (*DeviceService)(nil)

// devicesDoc is devices/{uid}: all of a user's push devices in one
// document (≤ chat.MaxDevices), so a push to a group reads one document
// per member, not a query. tokenDoc is pushTokens/{sha256(token)}: who
// holds a token now, so that registering it elsewhere (the same browser
// signed in by someone else) takes it from there.
type (
	devicesDoc struct {
		Devices map[string]deviceDoc `firestore:"devices"`
	}
	deviceDoc struct {
		Token     string    `firestore:"token"`
		Platform  string    `firestore:"platform"`
		UpdatedAt time.Time `firestore:"updatedAt"`
	}
	tokenDoc struct {
		UID      string `firestore:"uid"`
		DeviceID string `firestore:"deviceId"`
	}
)

// DeviceService implements chat.DeviceService.
type DeviceService struct{ db *DB }

// NewDeviceService returns a DeviceService on db.
func NewDeviceService(db *DB) *DeviceService { return &DeviceService{db: db} }

func (db *DB) devicesRef(uid string) *firestore.DocumentRef {
	return db.client.Collection("devices").Doc(uid)
}

func (db *DB) tokenRef(token string) *firestore.DocumentRef {
	return db.client.Collection("pushTokens").Doc(hashKey("token", token))
}

// FindDevices implements chat.DeviceService.
func (s *DeviceService) FindDevices(ctx context.Context) ([]*chat.Device, error) {
	uid, err := chat.CallerUID(ctx)
	if err != nil {
		return nil, err
	}
	d, _, err := getDoc[devicesDoc](ctx, nil, s.db.devicesRef(uid))
	if err != nil {
		return nil, translate(err)
	}
	out := []*chat.Device{}
	if d != nil {
		for _, id := range slices.Sorted(maps.Keys(d.Devices)) {
			dv := d.Devices[id]
			out = append(out, &chat.Device{ID: id, Platform: dv.Platform, UpdatedAt: dv.UpdatedAt.UTC()})
		}
	}
	return out, nil
}

// PutDevice implements chat.DeviceService, in one transaction: the token
// taken from whichever device held it, the device's old token released,
// and the user's oldest device dropped past chat.MaxDevices.
func (s *DeviceService) PutDevice(ctx context.Context, id, token, platform string) error {
	uid, err := chat.CallerUID(ctx)
	if err != nil {
		return err
	}
	if err := chat.ValidateDevice(id, token, platform); err != nil {
		return err
	}
	now := s.db.now()
	err = s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		mine, err := s.devicesOf(ctx, tx, uid)
		if err != nil {
			return err
		}
		holder, _, err := getDoc[tokenDoc](ctx, tx, s.db.tokenRef(token))
		if err != nil {
			return err
		}
		var theirs *devicesDoc
		if holder != nil && holder.UID != uid {
			if theirs, err = s.devicesOf(ctx, tx, holder.UID); err != nil {
				return err
			}
		}
		gone, err := s.released(ctx, tx, uid, mine, id, token)
		if err != nil {
			return err
		}
		// Reads done: the writes.
		if holder != nil && holder.UID != uid && theirs.Devices[holder.DeviceID].Token == token {
			if err := tx.Update(s.db.devicesRef(holder.UID), []firestore.Update{{FieldPath: []string{"devices", holder.DeviceID}, Value: firestore.Delete}}); err != nil {
				return err
			}
		}
		for _, t := range gone {
			if err := tx.Delete(s.db.tokenRef(t)); err != nil {
				return err
			}
		}
		mine.Devices[id] = deviceDoc{Token: token, Platform: platform, UpdatedAt: now}
		if err := tx.Set(s.db.devicesRef(uid), mine); err != nil {
			return err
		}
		return tx.Set(s.db.tokenRef(token), tokenDoc{UID: uid, DeviceID: id})
	})
	return translate(err)
}

// released takes out of mine what registering token as device id lets
// go — the same token under another id, the device's old token, the
// oldest device past the limit — and returns the tokens whose holder
// documents are still this user's to delete (read in tx first: a token
// may have moved to someone else since).
func (s *DeviceService) released(ctx context.Context, tx *firestore.Transaction, uid string, mine *devicesDoc, id, token string) ([]string, error) {
	for did, dv := range mine.Devices {
		if dv.Token == token && did != id {
			delete(mine.Devices, did)
		}
	}
	release := map[string]string{} // token → device id
	if old, ok := mine.Devices[id]; ok && old.Token != token {
		release[old.Token] = id
	}
	if _, ok := mine.Devices[id]; !ok && len(mine.Devices) >= chat.MaxDevices {
		oldestID, oldest := dropOldest(mine.Devices)
		release[oldest.Token] = oldestID
	}
	var gone []string
	for t, did := range release {
		h, _, err := getDoc[tokenDoc](ctx, tx, s.db.tokenRef(t))
		if err != nil {
			return nil, err
		}
		if h != nil && h.UID == uid && h.DeviceID == did {
			gone = append(gone, t)
		}
	}
	return gone, nil
}

// dropOldest removes the device with the oldest UpdatedAt and returns it.
func dropOldest(ds map[string]deviceDoc) (string, deviceDoc) {
	var id string
	for did, dv := range ds {
		if id == "" || dv.UpdatedAt.Before(ds[id].UpdatedAt) || (dv.UpdatedAt.Equal(ds[id].UpdatedAt) && did < id) {
			id = did
		}
	}
	dv := ds[id]
	delete(ds, id)
	return id, dv
}

func (s *DeviceService) devicesOf(ctx context.Context, tx *firestore.Transaction, uid string) (*devicesDoc, error) {
	d, _, err := getDoc[devicesDoc](ctx, tx, s.db.devicesRef(uid))
	if err != nil {
		return nil, err
	}
	if d == nil {
		d = &devicesDoc{}
	}
	if d.Devices == nil {
		d.Devices = map[string]deviceDoc{}
	}
	return d, nil
}

// DeleteDevice implements chat.DeviceService.
func (s *DeviceService) DeleteDevice(ctx context.Context, id string) error {
	uid, err := chat.CallerUID(ctx)
	if err != nil {
		return err
	}
	if err := chat.ValidateID("Device id", id); err != nil {
		return err
	}
	return translate(s.db.forgetDevice(ctx, uid, id, ""))
}

// forgetDevice deletes a user's device and releases its token; with token
// set, only if the device still holds that token (FCM said it is gone,
// and the device may have registered a new one since).
func (db *DB) forgetDevice(ctx context.Context, uid, id, token string) error {
	return db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		d, _, err := getDoc[devicesDoc](ctx, tx, db.devicesRef(uid))
		if err != nil || d == nil {
			return err
		}
		dv, ok := d.Devices[id]
		if !ok || (token != "" && dv.Token != token) {
			return nil
		}
		holder, _, err := getDoc[tokenDoc](ctx, tx, db.tokenRef(dv.Token))
		if err != nil {
			return err
		}
		if err := tx.Update(db.devicesRef(uid), []firestore.Update{{FieldPath: []string{"devices", id}, Value: firestore.Delete}}); err != nil {
			return err
		}
		if holder != nil && holder.UID == uid && holder.DeviceID == id {
			return tx.Delete(db.tokenRef(dv.Token))
		}
		return nil
	})
}
