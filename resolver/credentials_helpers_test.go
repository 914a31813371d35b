package resolver

// Test shorthands for credentials read from one Docker config file.

// loadDockerConfig reads the Docker config at path ("" for the default
// path) as the only credentials file.
func loadDockerConfig(path string) (*credentials, error) {
	if path == "" {
		path = defaultDockerConfigPath()
	}
	return loadCredentials([]credPath{{path: path, kind: dockerFile, required: true}}, 0)
}

// parseDockerConfig is loadDockerConfig for a file's contents.
func parseDockerConfig(path string, data []byte) (*credentials, error) {
	f, err := parseAuthFile(path, dockerFile, data)
	if err != nil {
		return nil, err
	}
	return newCredentials([]*authFile{f}, []string{path}, 0), nil
}
