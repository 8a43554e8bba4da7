"""The payment tracker: every payment's journey, hop by hop, answering "where is UETR X?"."""
