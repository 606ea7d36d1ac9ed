"""The sample stage: prompts, the resume journal, and n rollouts per problem from the teacher."""
