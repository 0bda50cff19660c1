// replaced by the config model
