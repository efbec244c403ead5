"""The CDK app of the licensing service: one stack, one construct per concern."""
