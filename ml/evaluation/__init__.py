"""Measures of generated answers shared by evaluation by generation and the arena: is an answer in the
expected language (`language`), has it degenerated into repetition or does it echo its prompt
(`repetition`), the intervals and paired tests over those counts (`stats`), and the run over variants x
prompts through the inference interface (`generation_eval`). Django-free, like all of `ml`."""
