package dev.smartvm;

/**
 * The size of a command's terminal, in character cells.
 *
 * @param columns 1 to 65535
 * @param rows 1 to 65535
 */
public record TerminalSize(int columns, int rows) {
    static final int MAX = 0xffff;

    public TerminalSize {
        if (columns < 1 || rows < 1 || columns > MAX || rows > MAX) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a terminal is 1 to " + MAX
                    + " columns by 1 to " + MAX + " rows; found " + columns + "x" + rows);
        }
    }
}
