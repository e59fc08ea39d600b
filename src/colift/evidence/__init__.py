"""Evidence: grounded-theory coding of interviews and meeting records, agreement, REFI-QDA."""
