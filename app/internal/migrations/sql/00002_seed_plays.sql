-- Data migration: a handful of real early-modern European plays, so a fresh
-- deploy has a catalogue to show. No ON CONFLICT: goose runs this once, and the
-- unique key turns an accidental second run into a loud error.
-- +goose Up
INSERT INTO plays (title, original_title, author, year, genre, language) VALUES
    ('The Ship of Hell',                            'Auto da Barca do Inferno',                                      'Gil Vicente',               1517, 'auto',         'Portuguese'),
    ('Hamlet',                                      'The Tragedy of Hamlet, Prince of Denmark',                      'William Shakespeare',       1603, 'tragedy',      'English'),
    ('Doctor Faustus',                              'The Tragical History of the Life and Death of Doctor Faustus', 'Christopher Marlowe',       1604, 'tragedy',      'English'),
    ('The Dog in the Manger',                       'El perro del hortelano',                                        'Lope de Vega',              1618, 'comedia',      'Spanish'),
    ('Fuenteovejuna',                               'Fuenteovejuna',                                                 'Lope de Vega',              1619, 'comedia',      'Spanish'),
    ('The Trickster of Seville and the Stone Guest', 'El burlador de Sevilla y convidado de piedra',                 'Tirso de Molina',           1630, 'comedia',      'Spanish'),
    ('Life Is a Dream',                             'La vida es sueño',                                              'Pedro Calderón de la Barca', 1635, 'comedia',      'Spanish'),
    ('The Cid',                                     'Le Cid',                                                        'Pierre Corneille',          1637, 'tragicomedy',  'French'),
    ('Tartuffe, or The Impostor',                   'Le Tartuffe ou l''Imposteur',                                   'Molière',                   1664, 'comedy',       'French'),
    ('Phaedra',                                     'Phèdre',                                                        'Jean Racine',               1677, 'tragedy',      'French'),
    ('The Servant of Two Masters',                  'Il servitore di due padroni',                                   'Carlo Goldoni',             1746, 'comedy',       'Italian');

-- +goose Down
DELETE FROM plays WHERE (original_title, author) IN (
    ('Auto da Barca do Inferno', 'Gil Vicente'),
    ('The Tragedy of Hamlet, Prince of Denmark', 'William Shakespeare'),
    ('The Tragical History of the Life and Death of Doctor Faustus', 'Christopher Marlowe'),
    ('El perro del hortelano', 'Lope de Vega'),
    ('Fuenteovejuna', 'Lope de Vega'),
    ('El burlador de Sevilla y convidado de piedra', 'Tirso de Molina'),
    ('La vida es sueño', 'Pedro Calderón de la Barca'),
    ('Le Cid', 'Pierre Corneille'),
    ('Le Tartuffe ou l''Imposteur', 'Molière'),
    ('Phèdre', 'Jean Racine'),
    ('Il servitore di due padroni', 'Carlo Goldoni')
);
