"""Board meetings, series, agendas, attendance, decisions and decision records."""
