namespace KcpKestrel.Core.Arq;

/// <summary>Receives the datagrams a <see cref="KcpControlBlock"/> emits (kcp-go's output callback).</summary>
internal interface IKcpOutput
{
    /// <summary>
    /// Called with one datagram: the first <see cref="KcpControlBlock.ReservedBytes"/> bytes are free for the
    /// layers below (FEC and cipher headers written in place), the KCP segments follow.
    /// </summary>
    /// <remarks>The span is the control block's own buffer: it is valid only for the duration of the call.</remarks>
    void Output(Span<byte> buffer);
}
