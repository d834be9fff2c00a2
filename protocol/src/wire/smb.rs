//! SMB1 messages and the SMB_COM_TRANSACTION envelope that carries mailslot writes.
