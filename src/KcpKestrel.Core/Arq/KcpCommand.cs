namespace KcpKestrel.Core.Arq;

/// <summary>The <c>cmd</c> byte of a KCP segment (kcp.go: IKCP_CMD_*).</summary>
internal enum KcpCommand : byte
{
    /// <summary>Data segment (IKCP_CMD_PUSH).</summary>
    Push = 81,

    /// <summary>Acknowledgement of one segment (IKCP_CMD_ACK).</summary>
    Ack = 82,

    /// <summary>Window probe: ask the peer for its window (IKCP_CMD_WASK).</summary>
    WindowAsk = 83,

    /// <summary>Window announcement (IKCP_CMD_WINS).</summary>
    WindowTell = 84,
}
