package storage

import (
	"fmt"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// putAlertStates applies alert changes to the active set (the alerts
// bucket, keyed by Alert.Key): a firing alert is stored or overwritten, a
// resolved one deleted, so the set is exactly what fires right now and a
// restart starts from it.
func putAlertStates(b *bolt.Bucket, alerts []model.Alert) error {
	for _, a := range alerts {
		var err error
		if a.State == model.AlertResolved {
			err = b.Delete([]byte(a.Key))
		} else {
			err = b.Put([]byte(a.Key), encodeAlert(a))
		}
		if err != nil {
			return fmt.Errorf("alert %q: %w", trunc(a.Key), err)
		}
	}
	return nil
}

// ActiveAlerts returns the alerts that fire, as the alert changes stored
// so far left them, by key. One that cannot be decoded is logged and
// skipped.
func (db *DB) ActiveAlerts() ([]model.Alert, error) {
	var out []model.Alert
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bAlerts).ForEach(func(k, v []byte) error {
			a, err := decodeAlert(v)
			if err != nil {
				db.log.Error("storage: corrupt active alert skipped", "key", string(k), "err", err)
				return nil
			}
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: active alerts: %w", err)
	}
	return out, nil
}
