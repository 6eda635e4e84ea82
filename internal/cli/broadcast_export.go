package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chathub/chathub/internal/admin"
)

func parseExport(fs *flag.FlagSet, args []string) (broadcastRun, error) {
	out := fs.String("o", "", "write the CSV to this file (default: stdout)")
	id, err := parseID(fs, args)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, bc *broadcastCall) error {
		if *out == "" {
			w := admin.NewDeliveryCSV(bc.env.Stdout)
			if err := bc.svc.Deliveries(ctx, id, w.Write); err != nil {
				return err
			}
			return w.Flush()
		}
		n, err := exportToFile(ctx, bc.svc, id, *out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(bc.env.Stderr, "wrote %d deliveries of campaign %d to %s\n", n, id, *out)
		return err
	}, nil
}

// exportToFile writes the CSV next to path and renames it into place, so a
// failed export never leaves a file that looks whole.
func exportToFile(ctx context.Context, svc broadcaster, id int64, path string) (int, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, fmt.Errorf("export to %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	w := admin.NewDeliveryCSV(tmp)
	err = svc.Deliveries(ctx, id, w.Write)
	if err == nil {
		err = w.Flush()
	}
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("export to %s: %w", path, err)
	}
	return w.Rows(), nil
}
