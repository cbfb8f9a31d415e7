namespace KcpKestrel.Transport.Kcp.Io.Loops;

/// <summary>
/// What an io_uring loop writes into user_data: the kind of request in the top byte, a channel's
/// generation in the next three (so a completion arriving after its channel left, and its loop slot
/// was reused, is recognised as stale), and the channel's loop index or a send's position below.
/// </summary>
internal static class IoUringTag
{
    /// <summary>A multishot receive into the loop's small buffers (sockets without GRO).</summary>
    public const byte ReceiveSmall = 1;

    /// <summary>A multishot receive into the loop's 64 KiB buffers (sockets with GRO).</summary>
    public const byte ReceiveLarge = 5;
    public const byte Wake = 2;
    public const byte Send = 3;
    public const byte Cancel = 4;

    /// <summary>An end-of-turn send: the generation bits hold its position in the batch, the index its channel.</summary>
    public const byte DeferredSend = 6;

    public static ulong Make(byte kind, uint generation, uint index) =>
        ((ulong)kind << 56) | ((ulong)(generation & 0xFFFFFF) << 32) | index;

    public static byte Kind(ulong tag) => (byte)(tag >> 56);

    public static uint Generation(ulong tag) => (uint)(tag >> 32) & 0xFFFFFF;

    public static int Index(ulong tag) => (int)(uint)tag;
}
