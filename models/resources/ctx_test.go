package resources_test

import "context"

var ctx = context.Background()
