// Package demo is `chathub demo`: the whole hub in one process with nothing
// installed — the embedded SQLite database and in-process Redis, the
// shipped scenarios, a Telegram bot in long polling against an in-process
// fake Bot API (internal/platformtest/telegramtest) whose simulated users
// are the seeded persona clients, the broadcast workers, and the web
// console with a fresh admin account.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/platformtest/telegramfake"
	shipped "github.com/chathub/chathub/scenarios"
)

// Defaults of Config.
const (
	// DefaultAddr is where the demo's console listens.
	DefaultAddr = "127.0.0.1:8080"
	// AdminName is the demo's admin account.
	AdminName = "admin"
	// actor names the demo's own changes in the audit log.
	actor = "demo"
)

// Config configures a demo.
type Config struct {
	// Base is the configuration read from the environment: the demo keeps
	// its logging, scenario directory and broadcast settings and replaces
	// the database, Redis, the bots, the HTTP address and quiet hours.
	Base config.Config
	// Addr is the console's address (port 0: any free port). Default
	// DefaultAddr.
	Addr string
	// DataDir keeps the SQLite database. Default "": a temporary directory
	// removed by Stop.
	DataDir string
	// Logger receives the hub's logs. Default: discard.
	Logger *slog.Logger
}

// Demo is a running demo.
type Demo struct {
	// URL is the console's address, "http://127.0.0.1:8080/".
	URL string
	// AdminPassword is the admin's password, generated at every start.
	AdminPassword string
	// DataDir holds the database; Temporary is true when Stop removes it.
	DataDir   string
	Temporary bool
	// Seeded is how many persona clients this start added (0 when a kept
	// data directory had them already).
	Seeded int
	// Personas are the seeded clients, also users of Telegram.
	Personas []Persona
	// Telegram is the in-process fake Bot API.
	Telegram *telegramfake.Server
	// Stores and Runtime are the running hub.
	Stores  *app.Stores
	Runtime *app.Runtime
	// Config is the hub's configuration.
	Config config.Config

	logger *slog.Logger
}

// Start runs the demo: it prepares the data directory, starts the fake
// Telegram, opens the stores, seeds the personas (once per database), sets
// the admin's password, and starts the bot, the broadcast workers and the
// console. Stop undoes it.
func Start(ctx context.Context, cfg Config) (d *Demo, err error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d = &Demo{logger: cfg.Logger}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.Stop(context.WithoutCancel(ctx)))
			d = nil
		}
	}()
	if err := d.dataDir(cfg.DataDir); err != nil {
		return d, err
	}
	if err := d.scenariosDir(&cfg.Base); err != nil {
		return d, err
	}
	d.Telegram = telegramfake.Start()
	d.Config = hubConfig(cfg.Base, cfg.Addr, filepath.Join(d.DataDir, "chathub.db"), d.Telegram)
	if d.Stores, err = app.Open(ctx, d.Config, cfg.Logger); err != nil {
		return d, err
	}
	if err := d.seed(ctx); err != nil {
		return d, err
	}
	if err := d.admin(ctx); err != nil {
		return d, err
	}
	bots, err := app.Bots(d.Config, d.Stores, cfg.Logger)
	if err != nil {
		return d, err
	}
	rt, err := app.NewRuntime(d.Config, d.Stores, bots, cfg.Logger)
	if err != nil {
		return d, err
	}
	if err := rt.Start(ctx); err != nil {
		return d, errors.Join(err, rt.Stop(context.WithoutCancel(ctx)))
	}
	d.Runtime = rt
	d.URL = consoleURL(rt.Addr())
	return d, nil
}

// scenariosDir checks base's scenarios directory; when it is the default
// ("scenarios") and not here (the demo run from another directory, or an
// installed binary), the shipped scenarios embedded in the binary are
// written into the data directory and used. A directory set on purpose
// (SCENARIOS_DIR) that is missing is an error.
func (d *Demo) scenariosDir(base *config.Config) error {
	_, err := os.Stat(base.ScenariosDir)
	if err == nil {
		return nil
	}
	if base.ScenariosDir != config.Default().ScenariosDir {
		return fmt.Errorf("scenarios: %w (set SCENARIOS_DIR to the scenario files' directory, or leave it unset for the shipped ones)", err)
	}
	dir := filepath.Join(d.DataDir, "scenarios")
	if err := os.CopyFS(dir, shipped.Files); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("write the shipped scenarios to %s: %w", dir, err)
	}
	base.ScenariosDir = dir
	return nil
}

// hubConfig is the demo hub's configuration over base: SQLite at dbPath,
// the in-process Redis, one Telegram bot on the fake, the console on addr,
// and no quiet hours (a demo campaign sends at any hour).
func hubConfig(base config.Config, addr, dbPath string, tg *telegramfake.Server) config.Config {
	c := base
	def := config.Default()
	c.DatabaseURL, c.RedisURL = dbPath, ""
	c.HTTPAddr = addr
	c.Telegram = def.Telegram
	c.Telegram.Token, c.Telegram.APIURL = tg.Token(), tg.URL()
	c.VK = def.VK
	c.ConfigFile, c.FileBots = "", nil
	c.Broadcast.QuietHours = "off"
	c.ShutdownTimeout = min(c.ShutdownTimeout, 10*time.Second)
	return c
}

// dataDir uses dir (made when missing) or a new temporary directory.
func (d *Demo) dataDir(dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "chathub-demo-")
		if err != nil {
			return fmt.Errorf("make a temporary data directory: %w", err)
		}
		d.DataDir, d.Temporary = tmp, true
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	d.DataDir = abs
	return nil
}

// seed makes every persona a user of the fake Telegram (so broadcasts reach
// them) and, unless the database has them already, a CRM client.
func (d *Demo) seed(ctx context.Context) error {
	d.Personas = Personas(time.Now().UTC())
	for _, p := range d.Personas {
		d.Telegram.SetUser(telegramfake.User{ID: p.UserID, FirstName: p.FirstName, LastName: p.LastName,
			Username: p.Username, LanguageCode: "ru"})
	}
	have, err := d.Stores.CRM.GetClient(ctx, d.Personas[0].Key())
	if err != nil {
		return fmt.Errorf("seed the demo clients: %w", err)
	}
	if have != nil {
		return nil
	}
	for _, p := range d.Personas {
		for i := range p.Changes {
			if _, err := d.Stores.CRM.ApplyChanges(ctx, p.Key(), &p.Changes[i]); err != nil {
				return fmt.Errorf("seed the demo client %s %s: %w", p.FirstName, p.LastName, err)
			}
		}
	}
	d.Seeded = len(d.Personas)
	return nil
}

// admin creates the admin account, or gives it a new password when a kept
// data directory has it, through the same account service as `chathub
// user` (audited as "demo").
func (d *Demo) admin(ctx context.Context) error {
	svc, ok := d.Stores.ConsoleAuth.(*account.Service)
	if !ok {
		return fmt.Errorf("the console's accounts are %T, not the account service", d.Stores.ConsoleAuth)
	}
	ctx = account.WithActor(ctx, actor)
	d.AdminPassword = svc.GeneratePassword()
	_, err := svc.AddUser(ctx, AdminName, account.RoleAdmin, d.AdminPassword)
	if errors.Is(err, account.ErrUserExists) {
		if err := svc.SetRole(ctx, AdminName, account.RoleAdmin); err != nil {
			return fmt.Errorf("demo admin: %w", err)
		}
		err = svc.SetPassword(ctx, AdminName, d.AdminPassword)
	}
	if err != nil {
		return fmt.Errorf("demo admin: %w", err)
	}
	return nil
}

// consoleURL is the console's URL for a listening address: an unspecified
// host ("[::]:8080", "0.0.0.0:8080") is reached at 127.0.0.1.
func consoleURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// Stop stops the hub gracefully (in-flight updates and sends finish within
// the shutdown timeout), closes the stores and the fake Telegram, and
// removes a temporary data directory.
func (d *Demo) Stop(ctx context.Context) error {
	var errs []error
	if d.Runtime != nil {
		errs = append(errs, d.Runtime.Stop(ctx))
		d.Runtime = nil
	}
	if d.Stores != nil {
		errs = append(errs, d.Stores.Close())
		d.Stores = nil
	}
	if d.Telegram != nil {
		d.Telegram.Close()
		d.Telegram = nil
	}
	if d.Temporary && d.DataDir != "" {
		errs = append(errs, os.RemoveAll(d.DataDir))
		d.DataDir = ""
	}
	return errors.Join(errs...)
}
