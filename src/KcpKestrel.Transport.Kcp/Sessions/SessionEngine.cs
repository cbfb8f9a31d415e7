using System.Buffers;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>A session's KCP control block, set up from its options.</summary>
internal static class SessionEngine
{
    /// <param name="conv">The conversation id.</param>
    /// <param name="output">Where KCP's datagrams go (the session).</param>
    /// <param name="options">The endpoint's settings: MTU, preset, windows, stream mode, dead link.</param>
    /// <param name="bufferPool">The loop's buffer pool for segments.</param>
    /// <param name="reserved">Room KCP leaves before and after its segments for the cipher and FEC headers.</param>
    /// <param name="budget">What rcv_buf and rcv_queue may hold, with the session's other receive buffers.</param>
    /// <param name="clock">The session's KCP time now, read as each segment goes out (null: the flush's time).</param>
    public static KcpControlBlock Create(uint conv, IKcpOutput output, KcpOptions options, ArrayPool<byte> bufferPool, int reserved, IReceiveBudget? budget = null, Func<uint>? clock = null)
    {
        var kcp = new KcpControlBlock(conv, output)
        {
            BufferPool = bufferPool,
            ReceiveBudget = budget,
            ReservedBytes = reserved,
            StreamMode = options.StreamMode,
            DeadLink = options.DeadLink,
            TailLossProbe = options.TailLossProbe,

            // Our peers prove their address at once: our WINS carries our (randomly offset) clock and
            // theirs is answered by an ack echoing it. kcp-go ignores both, and sends neither.
            StampWindowTell = true,
            EchoWindowTell = true,
            Clock = clock,

            // The loop flushes every session that received anything at the end of the turn that drained its
            // socket (before the turn's sends go out), so acks and new data leave as promptly as kcp-go's flush
            // per datagram, in a fraction of the datagrams and with one walk of the send buffer per batch.
            FlushAfterInput = false,
        };
        kcp.SetMtu(options.Mtu);
        var (nodelay, interval, resend, nc) = options.EffectiveNoDelay();
        kcp.SetNoDelay(nodelay, interval, resend, nc);
        kcp.SetWindowSize(options.SendWindow, options.ReceiveWindow);
        if (options.CongestionControl == KcpCongestionControl.Bbr)
        {
            kcp.UseRateControl();
        }

        return kcp;
    }
}
