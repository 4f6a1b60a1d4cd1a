package mutate

import "time"

// testNow is the time exemptions are judged at in the package's own tests.
var testNow = time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)
