package main

import (
	"context"
	"errors"
	"io"
)

func dev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("dev is not built yet")
}
