package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// mountConsole mounts the web console at / on srv (the API stays under
// /api, probes and webhooks where they are: the mux prefers the longer
// patterns); when auth also reads the audit log (internal/account's
// Service does), the console shows it under Журнал. With nil auth (no account service) it logs that the console
// is not available and mounts nothing, so / stays 404 as before.
func mountConsole(srv *admin.Server, cfg config.Config, stores *Stores, logger *slog.Logger) error {
	auth := stores.ConsoleAuth
	if auth == nil {
		logger.Warn("web console not available: no account service; serving the API, probes and webhooks only")
		return nil
	}
	audit, _ := auth.(console.AuditLog) // nil when auth cannot: Журнал then says "not ready yet"
	cc := console.Config{Auth: auth, Audit: audit, Logger: logger, Secure: cfg.ConsoleHTTPS}
	if err := stores.consolePages(cfg, &cc); err != nil {
		return fmt.Errorf("web console: %w", err)
	}
	c, err := console.New(cc)
	if err != nil {
		return fmt.Errorf("web console: %w", err)
	}
	srv.Handle("/", c.Handler())
	logger.Info("web console at /", "https_cookie", cfg.ConsoleHTTPS)
	return nil
}

// ConsoleServer is `chathub console`: the web console and the managers'
// API on HTTP_ADDR, with /healthz and /readyz, and no bots, no inbound
// pipeline and no broadcast workers (campaigns started here are sent by
// the `chathub run` processes).
type ConsoleServer struct {
	stores *Stores
	server *admin.Server
	cfg    config.Config
	logger *slog.Logger
}

// NewConsoleServer builds the console server over opened stores; the
// console itself is served when stores.ConsoleAuth is set.
func NewConsoleServer(cfg config.Config, stores *Stores, logger *slog.Logger) (*ConsoleServer, error) {
	srv := admin.New(admin.Config{
		Addr: cfg.HTTPAddr, Logger: logger,
		Checks: map[string]admin.Pinger{stores.CRM.Dialect(): stores.CRM, "redis": stores.State},
	})
	api, err := stores.ManagerAPI(cfg)
	if err != nil {
		return nil, err
	}
	srv.Handle("/api/", api)
	if !api.Enabled() {
		logger.Info("manager API disabled: set ADMIN_TOKEN to enable /api")
	}
	if err := mountConsole(srv, cfg, stores, logger); err != nil {
		return nil, err
	}
	return &ConsoleServer{stores: stores, server: srv, cfg: cfg, logger: logger}, nil
}

// Start begins scenario hot reload (the API checks campaign buttons
// against the scenarios) and the HTTP server.
func (s *ConsoleServer) Start(ctx context.Context) error {
	for _, reg := range s.stores.registries() {
		if err := reg.Start(ctx); err != nil {
			s.logger.Warn("scenario hot reload disabled", "err", err)
		}
	}
	return s.server.Start(ctx)
}

// Addr is the HTTP server's address (after Start).
func (s *ConsoleServer) Addr() string { return s.server.Addr() }

// Stop stops the HTTP server within the shutdown timeout and hot reload.
func (s *ConsoleServer) Stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.server.Stop(ctx)
	for _, reg := range s.stores.registries() {
		reg.Stop()
	}
	return err
}
