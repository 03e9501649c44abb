package pgtest

import (
	"context"
	"fmt"
	"os"
)

// Server is a throw-away PostgreSQL server for programs that are not
// tests, such as `dialtone bench`: the same cluster DB starts (or the
// external server of EnvDSN), owned by the caller, who must Stop it.
type Server struct {
	s    *server
	next int
}

// Start starts a server as DB would.
func Start() (*Server, error) {
	s, err := start()
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	return &Server{s: s}, nil
}

// NewDatabase creates an empty database and returns its DSN; it lives
// until Stop (a cluster's directory is removed then; on an external
// server the database stays).
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	s.next++
	name := fmt.Sprintf("bench_%d_%d", os.Getpid(), s.next)
	if _, err := s.s.admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return withDatabase(s.s.adminDSN, name)
}

// Stop shuts the server down and removes its directory.
func (s *Server) Stop() error { return s.s.stop() }

// Pid is the server's postmaster process ID, 0 for an external server
// (EnvDSN): the scale-out bench puts it in a CPU share of its own.
func (s *Server) Pid() int {
	if s.s.cmd == nil || s.s.cmd.Process == nil {
		return 0
	}
	return s.s.cmd.Process.Pid
}

// AdminDSN is the DSN of the server's "postgres" database as superuser.
func (s *Server) AdminDSN() string { return s.s.adminDSN }
