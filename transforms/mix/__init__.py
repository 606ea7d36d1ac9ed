"""The mix stage: quota selection, journeys, knowledge and non-reasoning examples."""
