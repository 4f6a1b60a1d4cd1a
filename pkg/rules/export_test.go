package rules

// Test builders for the external rules_test package (registry_test.go), which
// imports pkg/validate — a package that itself imports rules.
var (
	APIDeployment                = apiDeployment
	MinimalAPIDeployment         = minimalAPIDeployment
	APIStatefulSet               = apiStatefulSet
	ControllerStatefulSet        = controllerStatefulSet
	MinimalControllerStatefulSet = minimalControllerStatefulSet
	ControllerDeployment         = controllerDeployment
	RocksDBClaim                 = rocksDBClaim
	SecretEnv                    = secretEnv
)
