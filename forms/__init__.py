"""WTForms classes by audience, with shared money and date fields."""
