/* Frames of events assembled straight from a window's column buffers: the replay's hot path.
 *
 * The Python side (store/assemble.py) orders a window of the event store and describes each
 * table as (struct type, rows, columns): rows[j] is the table row of the table's j-th row in
 * tape order, and each column says how to make a field's object from its row:
 *
 *   (CODES, int32 codes, tuple of objects)   objects[codes[row]] (ids, enums, tick prices)
 *   (INTS, int64 values[, uint8 valid])      an int (None where not valid); one object per
 *                                            value while it stays in a small cache
 *   (BOOLS, uint8 values)                    True or False
 *   (OBJECTS, sequence)                      sequence[row] (strings, decimals, nullables)
 *   (LEVELS, int32 offsets, int64 prices, int64 sizes)
 *                                            a book side: ((price, size), ...) of the row
 *   (CONST, object)                          the same object for every row
 *   (RECV,)                                  the frame's receive-time object
 *
 * A table whose type is None hands out its one OBJECTS column's objects as they are.
 * Assembler.frames(first, stop) returns frames first..stop-1 as (ts, events) tuples, the
 * events constructed positionally in tape order (kinds[pos], int16, is the table of row pos;
 * frame f is rows bounds[f]..bounds[f+1]-1 received at ts[f]). Calls go forward; frames
 * skipped between calls (the market frames, joined in Python) only move the cursors.
 *
 * store/assemble.py has the same thing in Python (PENGINE_PURE_PYTHON=1, no C compiler);
 * tests hold the two to the same frames.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { CODES = 1, INTS = 2, BOOLS = 3, OBJECTS = 4, LEVELS = 5, CONST = 6, RECV = 7 };
#define MAX_FIELDS 24
#define INT_CACHE 256       /* INTS: ints kept per column, direct-mapped by value */
#define PRICE_UNIT 100      /* micro-units: 0.0001, the finest tick */
#define PRICE_GRID 10000    /* prices 0..1 */

typedef struct {
    int kind;
    Py_buffer buf[3];
    int held;               /* buffers acquired */
    PyObject *objects;      /* CODES, OBJECTS: a tuple; CONST: the object */
    struct { int64_t value; PyObject *obj; } *ints;  /* INTS: the cache, made on first use */
    PyObject **prices;      /* LEVELS: the int of each price on the grid, made on first use */
} Column;

typedef struct {
    PyObject *type;         /* NULL: hand out the OBJECTS column's objects */
    Py_buffer rows;
    int rows_held;
    Py_ssize_t nrows, cursor, ncols;
    Column *cols;
    int owned_args;         /* a LEVELS column makes new objects, to release after the call */
} Table;

typedef struct {
    PyObject_HEAD
    Py_buffer kinds, bounds, ts;
    int held, broken;
    Py_ssize_t nframes, next_frame, ntables;
    Table *tables;
} Assembler;

static int
get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    if (view->itemsize != itemsize || view->ndim != 1) {
        PyErr_Format(PyExc_ValueError, "%s: expected a 1-d array of %zd-byte items", what,
                     itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static Py_ssize_t
length(Py_buffer *view)
{
    return view->len / view->itemsize;
}

/* Parse one column description; every row index below `rows` must be valid for it. */
static int
column_init(Column *c, PyObject *spec, Py_ssize_t rows)
{
    if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) < 1) {
        PyErr_SetString(PyExc_TypeError, "a column is a tuple (kind, ...)");
        return -1;
    }
    c->kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(spec, 0));
    Py_ssize_t n = PyTuple_GET_SIZE(spec);
    static const Py_ssize_t arity[] = {0, 3, 2, 2, 2, 4, 2, 1};
    if (c->kind == INTS && n == 3 && PyTuple_GET_ITEM(spec, 2) == Py_None)
        n = 2;  /* no validity: every value is valid */
    int valid_ints = c->kind == INTS && n == 3;
    if (c->kind < CODES || c->kind > RECV || (n != arity[c->kind] && !valid_ints)) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "bad column description (kind %d, %zd items)",
                         c->kind, n);
        return -1;
    }
    switch (c->kind) {
    case CODES: {
        if (get_buffer(PyTuple_GET_ITEM(spec, 1), &c->buf[0], 4, "codes") < 0)
            return -1;
        c->held = 1;
        PyObject *objects = PyTuple_GET_ITEM(spec, 2);
        if (!PyTuple_Check(objects)) {
            PyErr_SetString(PyExc_TypeError, "codes need a tuple of objects");
            return -1;
        }
        c->objects = Py_NewRef(objects);
        if (length(&c->buf[0]) < rows) {
            PyErr_SetString(PyExc_ValueError, "codes: fewer values than rows");
            return -1;
        }
        const int32_t *codes = c->buf[0].buf;
        int32_t low = 0, high = 0;  /* a branch-free reduction the compiler vectorizes */
        for (Py_ssize_t i = 0; i < rows; i++) {
            low = codes[i] < low ? codes[i] : low;
            high = codes[i] > high ? codes[i] : high;
        }
        if (rows && (low < 0 || high >= PyTuple_GET_SIZE(objects))) {
            PyErr_SetString(PyExc_ValueError, "a code points outside its objects");
            return -1;
        }
        return 0;
    }
    case INTS:
    case BOOLS:
        if (get_buffer(PyTuple_GET_ITEM(spec, 1), &c->buf[0], c->kind == INTS ? 8 : 1,
                       "values") < 0)
            return -1;
        c->held = 1;
        if (n == 3) {  /* INTS with validity */
            if (get_buffer(PyTuple_GET_ITEM(spec, 2), &c->buf[1], 1, "validity") < 0)
                return -1;
            c->held = 2;
            if (length(&c->buf[1]) < rows) {
                PyErr_SetString(PyExc_ValueError, "validity: fewer than rows");
                return -1;
            }
        }
        if (length(&c->buf[0]) < rows) {
            PyErr_SetString(PyExc_ValueError, "values: fewer than rows");
            return -1;
        }
        return 0;
    case OBJECTS:
        c->objects = PySequence_Tuple(PyTuple_GET_ITEM(spec, 1));  /* a copy nobody changes */
        if (c->objects == NULL)
            return -1;
        if (PyTuple_GET_SIZE(c->objects) < rows) {
            PyErr_SetString(PyExc_ValueError, "objects: fewer than rows");
            return -1;
        }
        return 0;
    case LEVELS: {
        static const Py_ssize_t sizes[] = {4, 8, 8};
        static const char *names[] = {"level offsets", "level prices", "level sizes"};
        for (int i = 0; i < 3; i++) {
            if (get_buffer(PyTuple_GET_ITEM(spec, i + 1), &c->buf[i], sizes[i], names[i]) < 0)
                return -1;
            c->held = i + 1;
        }
        const int32_t *offsets = c->buf[0].buf;
        Py_ssize_t levels = length(&c->buf[1]);
        if (length(&c->buf[0]) < rows + 1 || length(&c->buf[2]) != levels) {
            PyErr_SetString(PyExc_ValueError, "levels: offsets or sizes do not fit");
            return -1;
        }
        for (Py_ssize_t i = 0; i < rows; i++)
            if (offsets[i] < 0 || offsets[i] > offsets[i + 1] || offsets[i + 1] > levels) {
                PyErr_SetString(PyExc_ValueError, "levels: offsets out of order or range");
                return -1;
            }
        return 0;
    }
    case CONST:
        c->objects = Py_NewRef(PyTuple_GET_ITEM(spec, 1));
        return 0;
    default: /* RECV */
        return 0;
    }
}

static void
column_clear(Column *c)
{
    for (int i = 0; i < c->held; i++)
        PyBuffer_Release(&c->buf[i]);
    c->held = 0;
    Py_CLEAR(c->objects);
    if (c->ints != NULL) {
        for (int i = 0; i < INT_CACHE; i++)
            Py_XDECREF(c->ints[i].obj);
        PyMem_Free(c->ints);
        c->ints = NULL;
    }
    if (c->prices != NULL) {
        for (int i = 0; i <= PRICE_GRID; i++)
            Py_XDECREF(c->prices[i]);
        PyMem_Free(c->prices);
        c->prices = NULL;
    }
}

/* A price's int: one object per price on the 0.0001 grid (every venue tick is a multiple),
 * kept by the column, instead of a new int per level of every snapshot. */
static PyObject *
price_of(Column *c, int64_t price)
{
    if (price < 0 || price > PRICE_GRID * PRICE_UNIT || price % PRICE_UNIT)
        return PyLong_FromLongLong(price);
    if (c->prices == NULL) {
        c->prices = PyMem_Calloc(PRICE_GRID + 1, sizeof(PyObject *));
        if (c->prices == NULL)
            return PyErr_NoMemory();
    }
    PyObject **slot = &c->prices[price / PRICE_UNIT];
    if (*slot == NULL && (*slot = PyLong_FromLongLong(price)) == NULL)
        return NULL;
    return Py_NewRef(*slot);
}

static PyObject *
levels_of(Column *c, int64_t row)
{
    const int32_t *offsets = c->buf[0].buf;
    const int64_t *prices = c->buf[1].buf, *sizes = c->buf[2].buf;
    int32_t start = offsets[row], end = offsets[row + 1];
    PyObject *side = PyTuple_New(end - start);
    if (side == NULL)
        return NULL;
    for (int32_t i = start; i < end; i++) {
        PyObject *price = price_of(c, prices[i]);
        PyObject *size = PyLong_FromLongLong(sizes[i]);
        PyObject *level = (price && size) ? PyTuple_Pack(2, price, size) : NULL;
        Py_XDECREF(price);
        Py_XDECREF(size);
        if (level == NULL) {
            Py_DECREF(side);
            return NULL;
        }
        PyTuple_SET_ITEM(side, i - start, level);
    }
    return side;
}

/* The field's object for table row `row`: borrowed (the column, its int cache or the frame
 * holds it until after the event is made), except a LEVELS side, a new reference. */
static inline PyObject *
value_of(Column *c, int64_t row, PyObject *recv)
{
    switch (c->kind) {
    case CODES:
        return PyTuple_GET_ITEM(c->objects, ((const int32_t *)c->buf[0].buf)[row]);
    case INTS: {
        if (c->held == 2 && !((const uint8_t *)c->buf[1].buf)[row])
            return Py_None;
        int64_t value = ((const int64_t *)c->buf[0].buf)[row];
        if (c->ints == NULL && (c->ints = PyMem_Calloc(INT_CACHE, sizeof(*c->ints))) == NULL)
            return PyErr_NoMemory();
        /* Fibonacci hashing: timestamps, prices and sizes spread over the slots. */
        size_t slot = (size_t)(((uint64_t)value * 0x9E3779B97F4A7C15ULL) >> 56);
        if (c->ints[slot].obj == NULL || c->ints[slot].value != value) {
            PyObject *made = PyLong_FromLongLong(value);
            if (made == NULL)
                return NULL;
            Py_XSETREF(c->ints[slot].obj, made);
            c->ints[slot].value = value;
        }
        return c->ints[slot].obj;
    }
    case BOOLS:
        return ((const uint8_t *)c->buf[0].buf)[row] ? Py_True : Py_False;
    case OBJECTS:
        return PyTuple_GET_ITEM(c->objects, row);
    case LEVELS:
        return levels_of(c, row);
    case CONST:
        return c->objects;
    default: /* RECV */
        return recv;
    }
}

static PyObject *
event_of(Table *t, int64_t row, PyObject *recv)
{
    if (t->type == NULL)
        return Py_NewRef(PyTuple_GET_ITEM(t->cols[0].objects, row));
    PyObject *args[MAX_FIELDS];
    Py_ssize_t i;
    for (i = 0; i < t->ncols; i++) {
        args[i] = value_of(&t->cols[i], row, recv);
        if (args[i] == NULL)
            break;
    }
    /* The struct takes its own references to the borrowed arguments. */
    PyObject *event = i == t->ncols ? PyObject_Vectorcall(t->type, args, t->ncols, NULL) : NULL;
    if (t->owned_args)
        while (i-- > 0)
            if (t->cols[i].kind == LEVELS)
                Py_DECREF(args[i]);
    return event;
}

static int
table_init(Table *t, PyObject *spec)
{
    PyObject *type, *rows, *columns;
    if (!PyTuple_Check(spec) || !PyArg_ParseTuple(spec, "OOO!", &type, &rows, &PyTuple_Type,
                                                  &columns)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "a table is a tuple (type, rows, columns)");
        return -1;
    }
    if (get_buffer(rows, &t->rows, 8, "rows") < 0)
        return -1;
    t->rows_held = 1;
    t->nrows = length(&t->rows);
    const int64_t *index = t->rows.buf;
    int64_t lowest = 0, highest = -1;  /* branch-free, vectorized */
    for (Py_ssize_t i = 0; i < t->nrows; i++) {
        lowest = index[i] < lowest ? index[i] : lowest;
        highest = index[i] > highest ? index[i] : highest;
    }
    if (lowest < 0) {
        PyErr_SetString(PyExc_ValueError, "rows: a negative row");
        return -1;
    }
    t->ncols = PyTuple_GET_SIZE(columns);
    if (t->ncols > MAX_FIELDS || (type == Py_None && t->ncols != 1)) {
        PyErr_SetString(PyExc_ValueError, "too many columns, or a typeless table with more "
                                          "than one");
        return -1;
    }
    t->type = type == Py_None ? NULL : Py_NewRef(type);
    t->cols = PyMem_Calloc(t->ncols ? t->ncols : 1, sizeof(Column));
    if (t->cols == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < t->ncols; i++) {
        if (column_init(&t->cols[i], PyTuple_GET_ITEM(columns, i), highest + 1) < 0)
            return -1;
        t->owned_args |= t->cols[i].kind == LEVELS;
    }
    if (t->type == NULL && t->cols[0].kind != OBJECTS) {
        PyErr_SetString(PyExc_ValueError, "a typeless table hands out an OBJECTS column");
        return -1;
    }
    return 0;
}

static void
table_clear(Table *t)
{
    if (t->cols != NULL) {
        for (Py_ssize_t i = 0; i < t->ncols; i++)
            column_clear(&t->cols[i]);
        PyMem_Free(t->cols);
        t->cols = NULL;
    }
    if (t->rows_held)
        PyBuffer_Release(&t->rows);
    t->rows_held = 0;
    Py_CLEAR(t->type);
}

static void
Assembler_dealloc(Assembler *self)
{
    if (self->tables != NULL) {
        for (Py_ssize_t i = 0; i < self->ntables; i++)
            table_clear(&self->tables[i]);
        PyMem_Free(self->tables);
    }
    Py_buffer *views[] = {&self->kinds, &self->bounds, &self->ts};
    for (int i = 0; i < self->held; i++)
        PyBuffer_Release(views[i]);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
Assembler_init(Assembler *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"kinds", "bounds", "ts", "tables", NULL};
    PyObject *kinds, *bounds, *ts, *tables;
    if (self->tables != NULL || self->held) {
        PyErr_SetString(PyExc_RuntimeError, "an Assembler is initialized once");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOO!", keywords, &kinds, &bounds, &ts,
                                     &PyList_Type, &tables))
        return -1;
    if (get_buffer(kinds, &self->kinds, 2, "kinds") < 0)
        return -1;
    self->held = 1;
    if (get_buffer(bounds, &self->bounds, 8, "bounds") < 0)
        return -1;
    self->held = 2;
    if (get_buffer(ts, &self->ts, 8, "ts") < 0)
        return -1;
    self->held = 3;
    self->nframes = length(&self->ts);
    const int64_t *b = self->bounds.buf;
    Py_ssize_t rows = length(&self->kinds);
    if (length(&self->bounds) != self->nframes + 1 || b[0] != 0 || b[self->nframes] != rows) {
        PyErr_SetString(PyExc_ValueError, "bounds must run from 0 to the rows, one per frame");
        return -1;
    }
    for (Py_ssize_t f = 0; f < self->nframes; f++)
        if (b[f] > b[f + 1]) {
            PyErr_SetString(PyExc_ValueError, "bounds must not decrease");
            return -1;
        }
    self->ntables = PyList_GET_SIZE(tables);
    self->tables = PyMem_Calloc(self->ntables ? self->ntables : 1, sizeof(Table));
    if (self->tables == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < self->ntables; i++)
        if (table_init(&self->tables[i], PyList_GET_ITEM(tables, i)) < 0)
            return -1;
    /* Every row's table exists, and each table has a row for each of its rows in the tape. */
    Py_ssize_t *count = PyMem_Calloc(self->ntables ? self->ntables : 1, sizeof(Py_ssize_t));
    if (count == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    const int16_t *k = self->kinds.buf;
    int bad = 0;
    for (Py_ssize_t pos = 0; pos < rows && !bad; pos++) {
        if (k[pos] < 0 || k[pos] >= self->ntables)
            bad = 1;
        else
            count[k[pos]]++;
    }
    for (Py_ssize_t i = 0; i < self->ntables && !bad; i++)
        bad = count[i] != self->tables[i].nrows;
    PyMem_Free(count);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "kinds do not match the tables' rows");
        return -1;
    }
    return 0;
}

static PyObject *
Assembler_frames(Assembler *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "frames(first, stop)");
        return NULL;
    }
    Py_ssize_t first = PyLong_AsSsize_t(args[0]), stop = PyLong_AsSsize_t(args[1]);
    if ((first == -1 || stop == -1) && PyErr_Occurred())
        return NULL;
    if (self->broken) {
        PyErr_SetString(PyExc_RuntimeError, "this Assembler failed earlier");
        return NULL;
    }
    if (self->tables == NULL || first < self->next_frame || stop < first
        || stop > self->nframes) {
        PyErr_Format(PyExc_ValueError, "frames %zd..%zd: they go forward from frame %zd, up "
                     "to %zd", first, stop, self->next_frame, self->nframes);
        return NULL;
    }
    const int16_t *kinds = self->kinds.buf;
    const int64_t *bounds = self->bounds.buf, *ts = self->ts.buf;
    for (int64_t pos = bounds[self->next_frame]; pos < bounds[first]; pos++)
        self->tables[kinds[pos]].cursor++;  /* skipped frames */
    PyObject *out = PyList_New(stop - first);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t f = first; f < stop; f++) {
        int64_t start = bounds[f], end = bounds[f + 1];
        PyObject *recv = PyLong_FromLongLong(ts[f]);
        PyObject *events = recv ? PyTuple_New(end - start) : NULL;
        if (events == NULL) {
            Py_XDECREF(recv);
            goto fail;
        }
        for (int64_t pos = start; pos < end; pos++) {
            Table *t = &self->tables[kinds[pos]];
            PyObject *event = event_of(t, ((const int64_t *)t->rows.buf)[t->cursor++], recv);
            if (event == NULL) {
                Py_DECREF(recv);
                Py_DECREF(events);
                goto fail;
            }
            PyTuple_SET_ITEM(events, pos - start, event);
        }
        PyObject *frame = PyTuple_New(2);
        if (frame == NULL) {
            Py_DECREF(recv);
            Py_DECREF(events);
            goto fail;
        }
        PyTuple_SET_ITEM(frame, 0, recv);
        PyTuple_SET_ITEM(frame, 1, events);
        PyList_SET_ITEM(out, f - first, frame);
        self->next_frame = f + 1;
    }
    return out;
fail:
    Py_DECREF(out);  /* the slots of frames not made are NULL, which a list frees fine */
    self->broken = 1;  /* the cursors stopped inside a frame */
    return NULL;
}

static PyMethodDef Assembler_methods[] = {
    {"frames", (PyCFunction)(void (*)(void))Assembler_frames, METH_FASTCALL,
     "frames(first, stop): frames first..stop-1 as a list of (ts, events) tuples."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject AssemblerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "prediction_engine.store._assemble.Assembler",
    .tp_doc = "Assembler(kinds, bounds, ts, tables): a window's frames from its columns.",
    .tp_basicsize = sizeof(Assembler),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Assembler_init,
    .tp_dealloc = (destructor)Assembler_dealloc,
    .tp_methods = Assembler_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "prediction_engine.store._assemble",
    "The replay's frames assembled from column buffers (see store/assemble.py).", -1, NULL,
};

PyMODINIT_FUNC
PyInit__assemble(void)
{
    if (PyType_Ready(&AssemblerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Assembler", (PyObject *)&AssemblerType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
