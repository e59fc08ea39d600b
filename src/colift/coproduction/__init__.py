"""The path model as working software: heterogeneity, guidance, roles, tools, cooperation, advice."""
