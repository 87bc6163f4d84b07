"""Pre-screening a site's candidate list (`trialbook prescreen`): the criteria over a table."""
