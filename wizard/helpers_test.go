package wizard_test

import "github.com/google/uuid"

func mustUUID() uuid.UUID { return uuid.MustParse("7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10") }
